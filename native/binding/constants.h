// The limits of the API and the defaults the core owns, as one frozen
// JavaScript object (the addon's `constants`), so that TypeScript reads each
// from its one home instead of restating it.
#pragma once

#include <napi.h>

namespace semvec_binding {

// {
//   limits: { maxDim, maxVectors, maxId, maxNextId, maxNlist, maxRerank,
//             maxK, maxArrayLength },
//   defaults: {
//     kmeans: { iterations, seed, maxPointsPerCentroid, init },
//     ivfTraining: { iterations, maxPointsPerCentroid, init },
//     rerank,   // candidates an sq8 IVF index re-ranks
//     nprobe,   // an IVF index made without one probes min(nprobe, nlist)
//   },
// }
Napi::Object constants_object(Napi::Env env);

}  // namespace semvec_binding
