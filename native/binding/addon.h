// Per-environment state of the addon (one per Node environment, so worker
// threads each get their own).
#pragma once

#include <napi.h>

namespace semvec_binding {

struct AddonData {
  Napi::FunctionReference error_factory;
  Napi::FunctionReference flat_index_ctor;
  Napi::FunctionReference ivf_index_ctor;
  Napi::FunctionReference graph_index_ctor;
};

inline AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace semvec_binding
