// SPDX-License-Identifier: Apache-2.0
// set_excepthook: exceptions escaping run() go to the hook (never std::terminate);
// the default hook prints "Exception in thread NAME:" and the type and message.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "weft/errors.hpp"
#include "weft/thread.hpp"

namespace {

struct CustomError {
  int code;
};

// Restores the default hook when a test ends.
struct HookReset {
  ~HookReset() { weft::set_excepthook({}); }
};

TEST(ExceptHook, DefaultHookPrintsNameTypeAndMessage) {
  ::testing::internal::CaptureStderr();
  weft::Thread t(weft::ThreadOptions{"failing", false},
                 [] { throw std::runtime_error("something broke"); });
  t.start();
  t.join();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Exception in thread failing:"), std::string::npos) << err;
  EXPECT_NE(err.find("std::runtime_error: something broke"), std::string::npos) << err;
  EXPECT_FALSE(t.is_alive());
}

TEST(ExceptHook, DefaultHookHandlesNonStdExceptions) {
  ::testing::internal::CaptureStderr();
  weft::Thread t([] { throw 42; });
  t.start();
  t.join();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Exception in thread " + t.name() + ":"), std::string::npos) << err;
  EXPECT_NE(err.find("int"), std::string::npos) << err;
}

TEST(ExceptHook, CustomHookReceivesTheArguments) {
  HookReset reset;
  weft::ExceptHookArgs seen{};
  int calls = 0;
  weft::set_excepthook([&](const weft::ExceptHookArgs& a) {
    seen = a;
    ++calls;
  });
  weft::Thread t([] { throw weft::ValueError("bad value"); });
  t.start();
  t.join();
  ASSERT_EQ(calls, 1);
  EXPECT_EQ(seen.exc_type, "weft::ValueError");
  EXPECT_EQ(seen.what, "bad value");
  EXPECT_EQ(seen.thread, &t);
  ASSERT_TRUE(seen.exc);
  EXPECT_THROW(std::rethrow_exception(seen.exc), weft::ValueError);
}

TEST(ExceptHook, HookRunsOnTheFailingThread) {
  HookReset reset;
  std::uint64_t hook_ident = 0, thread_ident = 0;
  weft::set_excepthook([&](const weft::ExceptHookArgs&) { hook_ident = weft::get_ident(); });
  weft::Thread t([&] {
    thread_ident = weft::get_ident();
    throw CustomError{3};
  });
  t.start();
  t.join();
  EXPECT_EQ(hook_ident, thread_ident);
}

TEST(ExceptHook, CustomTypeNameIsDemangled) {
  HookReset reset;
  std::string type;
  std::string what = "unset";
  weft::set_excepthook([&](const weft::ExceptHookArgs& a) {
    type = a.exc_type;
    what = a.what;
  });
  weft::Thread t([] { throw CustomError{1}; });
  t.start();
  t.join();
  EXPECT_NE(type.find("CustomError"), std::string::npos) << type;
  EXPECT_EQ(what, "");
}

TEST(ExceptHook, EmptyFunctionRestoresTheDefault) {
  int calls = 0;
  weft::set_excepthook([&](const weft::ExceptHookArgs&) { ++calls; });
  weft::set_excepthook({});
  ::testing::internal::CaptureStderr();
  weft::Thread t([] { throw std::logic_error("restored"); });
  t.start();
  t.join();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(calls, 0);
  EXPECT_NE(err.find("std::logic_error: restored"), std::string::npos) << err;
}

TEST(ExceptHook, AThrowingHookIsReportedAndSwallowed) {
  HookReset reset;
  weft::set_excepthook([](const weft::ExceptHookArgs&) { throw std::runtime_error("hook failed"); });
  ::testing::internal::CaptureStderr();
  weft::Thread t([] { throw std::runtime_error("original"); });
  t.start();
  t.join();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Exception in threading.excepthook"), std::string::npos) << err;
  EXPECT_NE(err.find("hook failed"), std::string::npos) << err;
}

TEST(ExceptHook, OverriddenRunThatThrowsIsReported) {
  HookReset reset;
  struct Bad : weft::Thread {
    void run() override { throw std::out_of_range("from run"); }
  };
  std::string what;
  weft::Thread* who = nullptr;
  weft::set_excepthook([&](const weft::ExceptHookArgs& a) {
    what = a.what;
    who = a.thread;
  });
  Bad b;
  b.start();
  b.join();
  EXPECT_EQ(what, "from run");
  EXPECT_EQ(who, &b);
}

TEST(ExceptHook, ProcessCarriesOnAndOtherThreadsStillWork) {
  HookReset reset;
  weft::set_excepthook([](const weft::ExceptHookArgs&) {});
  for (int i = 0; i < 3; ++i) {
    weft::Thread t([] { throw std::runtime_error("x"); });
    t.start();
    t.join();
  }
  int ok = 0;
  weft::Thread good([&] { ok = 1; });
  good.start();
  good.join();
  EXPECT_EQ(ok, 1);
}

}  // namespace
