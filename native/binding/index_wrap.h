// Base of the index wrappers (CRTP): the methods every index kind exposes to
// JavaScript the same way. Derived classes add search, info and their own
// methods, and list CommonMethods() in their DefineClass.
//
// Reading state across the boundary: info() gives the facts fixed at
// construction (read once by TypeScript); size(), nextId(), readOnly(),
// mappedBytes() and the IVF getters are cheap (a shared lock at most, no
// walk); memoryUsage() is the one call that walks an index's storage.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "index_methods.h"

namespace semvec_binding {

template <typename Derived, typename Index>
class IndexWrap : public Napi::ObjectWrap<Derived> {
 public:
  using Method = Napi::Value (Derived::*)(const Napi::CallbackInfo&);
  using Descriptor = Napi::ClassPropertyDescriptor<Derived>;

  // add, addAsync, remove, removeAsync, contains, get, size, nextId,
  // memoryUsage, mappedBytes, readOnly, save, saveAsync, serialize, and the
  // static load, loadAsync, open, openAsync, deserialize; `extra` is
  // appended.
  static std::vector<Descriptor> CommonMethods(std::vector<Descriptor> extra) {
    using W = Napi::ObjectWrap<Derived>;
    std::vector<Descriptor> all = {
        W::InstanceMethod("add", static_cast<Method>(&IndexWrap::Add)),
        W::InstanceMethod("addAsync", static_cast<Method>(&IndexWrap::AddAsync)),
        W::InstanceMethod("remove", static_cast<Method>(&IndexWrap::Remove)),
        W::InstanceMethod("removeAsync", static_cast<Method>(&IndexWrap::RemoveAsync)),
        W::InstanceMethod("contains", static_cast<Method>(&IndexWrap::Contains)),
        W::InstanceMethod("get", static_cast<Method>(&IndexWrap::Get)),
        W::InstanceMethod("size", static_cast<Method>(&IndexWrap::Size)),
        W::InstanceMethod("nextId", static_cast<Method>(&IndexWrap::NextId)),
        W::InstanceMethod("memoryUsage", static_cast<Method>(&IndexWrap::MemoryUsage)),
        W::InstanceMethod("mappedBytes", static_cast<Method>(&IndexWrap::MappedBytes)),
        W::InstanceMethod("readOnly", static_cast<Method>(&IndexWrap::ReadOnly)),
        W::InstanceMethod("save", static_cast<Method>(&IndexWrap::Save)),
        W::InstanceMethod("saveAsync", static_cast<Method>(&IndexWrap::SaveAsync)),
        W::InstanceMethod("serialize", static_cast<Method>(&IndexWrap::Serialize)),
        W::template StaticMethod<&index_load<Index, Derived>>("load"),
        W::template StaticMethod<&index_load_async<Index, Derived>>("loadAsync"),
        W::template StaticMethod<&index_open<Index, Derived>>("open"),
        W::template StaticMethod<&index_open_async<Index, Derived>>("openAsync"),
        W::template StaticMethod<&index_deserialize<Index, Derived>>("deserialize"),
    };
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  }

 protected:
  explicit IndexWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {
    index_ = from_external<Index>(info);
  }

  Napi::Value Add(const Napi::CallbackInfo& info) { return index_add(info, *index_); }
  Napi::Value AddAsync(const Napi::CallbackInfo& info) { return index_add_async(info, index_); }
  Napi::Value Remove(const Napi::CallbackInfo& info) { return index_remove(info, *index_); }
  Napi::Value RemoveAsync(const Napi::CallbackInfo& info) { return index_remove_async(info, index_); }
  Napi::Value Contains(const Napi::CallbackInfo& info) { return index_contains(info, *index_); }
  Napi::Value Get(const Napi::CallbackInfo& info) { return index_get(info, *index_); }
  Napi::Value Save(const Napi::CallbackInfo& info) { return index_save(info, *index_); }
  Napi::Value SaveAsync(const Napi::CallbackInfo& info) { return index_save_async(info, index_); }
  Napi::Value Serialize(const Napi::CallbackInfo& info) { return index_serialize(info, *index_); }
  Napi::Value Size(const Napi::CallbackInfo& info) { return count(info, index_->size()); }
  Napi::Value NextId(const Napi::CallbackInfo& info) { return count(info, index_->next_id()); }
  Napi::Value MemoryUsage(const Napi::CallbackInfo& info) { return count(info, index_->memory_usage()); }
  Napi::Value MappedBytes(const Napi::CallbackInfo& info) { return count(info, index_->mapped_bytes()); }
  Napi::Value ReadOnly(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), index_->read_only()); }

  static Napi::Value count(const Napi::CallbackInfo& info, uint64_t n) {
    return Napi::Number::New(info.Env(), static_cast<double>(n));
  }

  // Common fields of info(), fixed at construction: dim, metric.
  Napi::Object BaseInfo(Napi::Env env) const {
    Napi::Object o = Napi::Object::New(env);
    o.Set("dim", Napi::Number::New(env, static_cast<double>(index_->dim())));
    o.Set("metric", Napi::String::New(env, semvec::metric_name(index_->metric())));
    return o;
  }

  // null when the object was made around an existing index (load)
  std::shared_ptr<Index> index_;
};

}  // namespace semvec_binding
