// SPDX-License-Identifier: Apache-2.0
// weft/detail/function_ref.hpp: a non-owning reference to a callable.
//
// Lets the parking lot take callbacks without allocating or templating its
// out-of-line code. The referenced callable must outlive the call that receives it.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace weft::detail {

template <class Sig>
class FunctionRef;

template <class R, class... A>
class FunctionRef<R(A...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef> &&
                                              std::is_invocable_r_v<R, F&, A...>>>
  FunctionRef(F&& f) noexcept  // NOLINT(google-explicit-constructor): meant to convert
      : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* obj, A... a) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(obj))(std::forward<A>(a)...);
        }) {}

  R operator()(A... a) const { return call_(obj_, std::forward<A>(a)...); }

 private:
  void* obj_;
  R (*call_)(void*, A...);
};

}  // namespace weft::detail
