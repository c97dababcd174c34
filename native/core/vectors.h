// Helpers over plain row-major vector sets (x: size n * d).
#pragma once

#include <cstddef>
#include <cstdint>

namespace semvec {

// Returns dim, or throws Error(InvalidArgument) unless 1 <= dim <= kMaxDim.
size_t check_dim(size_t dim);

// The L2 norm of x (d values): the SIMD float sum of squares where it is
// exact enough, else (components whose squares overflow or underflow a
// float: near +-1e19 and beyond, or below 1e-19) a sum in double. Finite
// for every finite x.
double fvec_norm_L2(const float* x, size_t d);

// Scales each of the n vectors of x to unit L2 norm, in place. A vector whose
// norm is zero is left unchanged (all zeros) rather than turned into NaN; the
// number of such vectors is returned.
size_t fvec_renorm_L2(float* x, size_t n, size_t d);

// Same, from x into out (out may equal x).
size_t fvec_normalized_L2(const float* x, size_t n, size_t d, float* out);

// The index score of q and x (d each: <q, x>, or 2 <q, x> - ||x||^2 with l2;
// search_results.h) computed in double and clamped to the float range: for
// vectors whose float score overflows (an infinity, or NaN from infinity -
// infinity for l2), so that none is lost from a selection.
float score_in_double(const float* q, const float* x, size_t d, bool l2);

// True when no value of x[0..n) is a NaN or an infinity (vectorises).
bool all_finite(const float* x, size_t n);

// Throws Error(InvalidArgument) naming the first vector and component that is
// NaN or infinite; `what` names the argument in the message ("vectors").
void check_finite(const float* x, size_t n, size_t d, const char* what);

}  // namespace semvec
