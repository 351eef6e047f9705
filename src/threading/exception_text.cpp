// SPDX-License-Identifier: Apache-2.0
#include "weft/detail/exception_text.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <typeinfo>

namespace weft::detail {

std::string current_exception_type_name() {
  const std::type_info* t = abi::__cxa_current_exception_type();
  if (t == nullptr) return "unknown";
  int status = 0;
  // __cxa_demangle allocates with malloc.
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(t->name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(t->name());
}

std::string current_exception_message() {
  const std::exception_ptr e = std::current_exception();
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return {};
  }
}

std::string describe_current_exception() {
  std::string type = current_exception_type_name();
  try {
    throw;
  } catch (const std::exception& e) {
    return type + ": " + e.what();
  } catch (...) {
    return type;
  }
}

}  // namespace weft::detail
