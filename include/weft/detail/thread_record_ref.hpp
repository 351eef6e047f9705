// SPDX-License-Identifier: Apache-2.0
// weft/detail/thread_record_ref.hpp: L1, a counted reference to a thread's record.
//
// Not part of the public API. The record itself (src/park/thread_record.hpp) is private
// to the library; a Thread object holds its thread's record through a RecordRef.
#pragma once

#include <utility>

namespace weft::detail {

struct ThreadRecord;

// Reference counting of records (thread_record.cpp); a record is freed with its last
// reference. retain() needs a reference that is already held (or the guarantee of the
// list the pointer came from, see for_each_thread_record).
void retain(ThreadRecord* record) noexcept;
void release(ThreadRecord* record) noexcept;

class RecordRef {
 public:
  RecordRef() noexcept = default;
  // Takes a new reference to `record` (nullptr: empty).
  explicit RecordRef(ThreadRecord* record) noexcept : p_(record) {
    if (p_ != nullptr) retain(p_);
  }
  RecordRef(const RecordRef& other) noexcept : RecordRef(other.p_) {}
  RecordRef(RecordRef&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  RecordRef& operator=(RecordRef other) noexcept {
    std::swap(p_, other.p_);
    return *this;
  }
  ~RecordRef() {
    if (p_ != nullptr) release(p_);
  }

  ThreadRecord* get() const noexcept { return p_; }
  ThreadRecord& operator*() const noexcept { return *p_; }
  ThreadRecord* operator->() const noexcept { return p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }

 private:
  ThreadRecord* p_ = nullptr;
};

}  // namespace weft::detail
