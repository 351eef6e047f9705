// SPDX-License-Identifier: Apache-2.0
// weft/detail/wire.hpp: the byte encoding of ProcessPoolExecutor arguments and results.
//
// Wire types: arithmetic types, enums, std::string, std::vector / std::array /
// std::pair / std::tuple / std::optional of wire types, trivially copyable structs
// (copied byte for byte: they must not hold pointers), and any T with a
// weft::codec<T> specialization (checked first, so it can override the built-in rules).
// Both ends are the same executable on the same machine, so integers travel in host
// byte order. Anything else fails to compile in this_type_is_not_a_wire_type<T>.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/errors.hpp"

namespace weft {

class WireWriter;
class WireReader;

/// Specialise codec<T> to send a type that is not a wire type by itself:
///
///   template <> struct weft::codec<Point> {
///     static void encode(weft::WireWriter& w, const Point& p) { w.write(p.name); w.write(p.x); }
///     static Point decode(weft::WireReader& r) {
///       Point p; p.name = r.read<std::string>(); p.x = r.read<double>(); return p; }
///   };
template <class T>
struct codec {
  using unspecialized = void;  // marks the primary template
};

namespace detail {

template <class T>
inline constexpr bool dependent_false = false;

template <class T>
struct this_type_is_not_a_wire_type {
  static_assert(dependent_false<T>,
                "weft::ProcessPoolExecutor: the type named in "
                "'this_type_is_not_a_wire_type<...>' cannot cross a process boundary. "
                "Allowed: arithmetic types, enums, std::string, std::vector / std::array / "
                "std::pair / std::tuple / std::optional of wire types, trivially copyable "
                "structs, or any type with a weft::codec<T> specialization.");
  static constexpr bool value = false;
};

template <class T>
concept has_codec = !requires { typename codec<T>::unspecialized; };

// Whether T is Template<A...> for a template of type parameters only.
template <class T, template <class...> class Template>
struct is_instance_of : std::false_type {};
template <template <class...> class Template, class... A>
struct is_instance_of<Template<A...>, Template> : std::true_type {};

template <class T>
using is_vector = is_instance_of<T, std::vector>;
template <class T>
using is_pair = is_instance_of<T, std::pair>;
template <class T>
using is_tuple = is_instance_of<T, std::tuple>;
template <class T>
using is_optional = is_instance_of<T, std::optional>;
template <class T>
struct is_array : std::false_type {};
template <class T, std::size_t N>
struct is_array<std::array<T, N>> : std::true_type {};

// Whether T is a wire type. With Assert, a non-wire type (the innermost offending one)
// fails to compile in this_type_is_not_a_wire_type<T>, which names it.
template <class T, bool Assert>
constexpr bool wire_type() {
  using U = std::remove_cv_t<T>;
  if constexpr (has_codec<U>) {
    return true;
  } else if constexpr (std::is_arithmetic_v<U> || std::is_enum_v<U>) {
    return true;
  } else if constexpr (std::is_same_v<U, std::string>) {
    return true;
  } else if constexpr (is_vector<U>::value || is_array<U>::value || is_optional<U>::value) {
    return wire_type<typename U::value_type, Assert>();
  } else if constexpr (is_pair<U>::value) {
    return wire_type<typename U::first_type, Assert>() &&
           wire_type<typename U::second_type, Assert>();
  } else if constexpr (is_tuple<U>::value) {
    return []<class... E>(std::type_identity<std::tuple<E...>>) {
      return (wire_type<E, Assert>() && ... && true);
    }(std::type_identity<U>{});
  } else if constexpr (std::is_class_v<U> && std::is_trivially_copyable_v<U>) {
    return true;
  } else if constexpr (Assert) {
    return this_type_is_not_a_wire_type<U>::value;
  } else {
    return false;
  }
}

template <class T>
constexpr bool wire_check() {
  return wire_type<T, true>();
}

}  // namespace detail

/// True when T can be an argument or result of a ProcessPoolExecutor task.
template <class T>
inline constexpr bool is_wire_type_v = detail::wire_type<T, false>();

/// Appends wire-encoded values to a byte buffer (for codec<T>::encode).
class WireWriter {
 public:
  template <class T>
  void write(const T& v) {
    static_assert(detail::wire_check<T>());
    using U = std::remove_cv_t<T>;
    if constexpr (detail::has_codec<U>) {
      codec<U>::encode(*this, v);
    } else if constexpr (std::is_arithmetic_v<U> || std::is_enum_v<U> ||
                         (std::is_class_v<U> && std::is_trivially_copyable_v<U> &&
                          !detail::is_array<U>::value && !detail::is_pair<U>::value &&
                          !detail::is_tuple<U>::value && !detail::is_optional<U>::value)) {
      raw(&v, sizeof(U));
    } else if constexpr (std::is_same_v<U, std::string>) {
      write_size(v.size());
      raw(v.data(), v.size());
    } else if constexpr (detail::is_vector<U>::value) {
      write_size(v.size());
      using E = typename U::value_type;
      if constexpr (std::is_arithmetic_v<E> && !std::is_same_v<E, bool>) {
        raw(v.data(), v.size() * sizeof(E));
      } else {
        for (const auto& e : v) write(static_cast<const E&>(e));
      }
    } else if constexpr (detail::is_array<U>::value) {
      for (const auto& e : v) write(e);
    } else if constexpr (detail::is_pair<U>::value) {
      write(v.first);
      write(v.second);
    } else if constexpr (detail::is_tuple<U>::value) {
      std::apply([&](const auto&... e) { (write(e), ...); }, v);
    } else if constexpr (detail::is_optional<U>::value) {
      write(static_cast<std::uint8_t>(v.has_value()));
      if (v) write(*v);
    }
  }

  void raw(const void* p, std::size_t n) { buf_.append(static_cast<const char*>(p), n); }
  void write_size(std::size_t n) { write(static_cast<std::uint64_t>(n)); }
  std::string& buffer() noexcept { return buf_; }

 private:
  std::string buf_;
};

/// Reads wire-encoded values back (for codec<T>::decode). Throws RuntimeError on a
/// truncated or malformed message.
class WireReader {
 public:
  WireReader(const char* p, std::size_t n) noexcept : p_(p), end_(p + n) {}
  explicit WireReader(std::string_view s) noexcept : WireReader(s.data(), s.size()) {}

  template <class T>
  T read() {
    static_assert(detail::wire_check<T>());
    using U = std::remove_cv_t<T>;
    if constexpr (detail::has_codec<U>) {
      return codec<U>::decode(*this);
    } else if constexpr (std::is_arithmetic_v<U> || std::is_enum_v<U> ||
                         (std::is_class_v<U> && std::is_trivially_copyable_v<U> &&
                          !detail::is_array<U>::value && !detail::is_pair<U>::value &&
                          !detail::is_tuple<U>::value && !detail::is_optional<U>::value)) {
      static_assert(std::is_default_constructible_v<U> || std::is_arithmetic_v<U> ||
                        std::is_enum_v<U>,
                    "weft: a trivially copyable wire struct must be default constructible");
      U v{};
      raw(&v, sizeof(U));
      return v;
    } else if constexpr (std::is_same_v<U, std::string>) {
      const std::size_t n = read_size();
      std::string s(take(n), n);
      return s;
    } else if constexpr (detail::is_vector<U>::value) {
      const std::size_t n = read_size();
      using E = typename U::value_type;
      U v;
      if constexpr (std::is_arithmetic_v<E> && !std::is_same_v<E, bool>) {
        if (n > remaining() / sizeof(E)) malformed();
        v.resize(n);
        raw(v.data(), n * sizeof(E));
      } else {
        if (n > remaining()) malformed();  // every element takes at least... a guard
        v.reserve(n);
        for (std::size_t i = 0; i < n; ++i) v.push_back(read<E>());
      }
      return v;
    } else if constexpr (detail::is_array<U>::value) {
      U v{};
      for (auto& e : v) e = read<typename U::value_type>();
      return v;
    } else if constexpr (detail::is_pair<U>::value) {
      auto a = read<typename U::first_type>();
      auto b = read<typename U::second_type>();
      return U(std::move(a), std::move(b));
    } else if constexpr (detail::is_tuple<U>::value) {
      return [&]<class... E>(std::type_identity<std::tuple<E...>>) {
        return std::tuple<E...>{read<E>()...};  // braces: left-to-right evaluation
      }(std::type_identity<U>{});
    } else if constexpr (detail::is_optional<U>::value) {
      if (read<std::uint8_t>() == 0) return U{};
      return U(read<typename U::value_type>());
    }
  }

  void raw(void* out, std::size_t n) { std::memcpy(out, take(n), n); }
  std::size_t read_size() { return static_cast<std::size_t>(read<std::uint64_t>()); }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }

 private:
  [[noreturn]] static void malformed() { throw RuntimeError("malformed wire message"); }
  const char* take(std::size_t n) {
    if (n > remaining()) malformed();
    const char* p = p_;
    p_ += n;
    return p;
  }

  const char* p_;
  const char* end_;
};

namespace detail {
// The arguments of a call of a function with parameters P... (submit() of the process
// pool and of weft::dist's executor): each converted to its parameter's type, then
// encoded in order, as the worker decodes them.
template <class... P, class... Args>
std::string encode_arguments(Args&&... args) {
  static_assert(sizeof...(P) == sizeof...(Args), "weft: submit: wrong number of arguments for fn");
  WireWriter w;
  if constexpr (sizeof...(P) == sizeof...(Args))
    (w.write(static_cast<std::decay_t<P>>(std::forward<Args>(args))), ...);
  return std::move(w.buffer());
}
}  // namespace detail

}  // namespace weft
