// SPDX-License-Identifier: Apache-2.0
// local<T>: one value per thread per object, default-constructed on first access,
// destroyed at thread exit or with the local object, whichever comes first.
#include "weft/local.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "weft/lock.hpp"
#include "weft/thread.hpp"

namespace {

struct Tracked {
  static std::atomic<int> alive;
  int value = 0;
  Tracked() { ++alive; }
  ~Tracked() { --alive; }
};
std::atomic<int> Tracked::alive{0};

TEST(Local, DefaultConstructedOnFirstAccess) {
  weft::local<int> n;
  EXPECT_EQ(n.get(), 0);
  n.get() = 5;
  EXPECT_EQ(*n, 5);
  weft::local<std::string> s;
  s->append("abc");
  EXPECT_EQ(s.get(), "abc");
  EXPECT_EQ(s->size(), 3u);
}

TEST(Local, EachThreadHasItsOwnValue) {
  weft::local<int> n;
  n.get() = 100;
  std::vector<int> seen(4, -1);
  std::vector<std::unique_ptr<weft::Thread>> threads;
  for (int i = 0; i < 4; ++i) {
    threads.push_back(std::make_unique<weft::Thread>([&n, &seen, i] {
      seen[static_cast<std::size_t>(i)] = n.get();  // fresh: 0
      n.get() = i;
      EXPECT_EQ(n.get(), i);
    }));
  }
  for (auto& t : threads) t->start();
  for (auto& t : threads) t->join();
  for (int v : seen) EXPECT_EQ(v, 0);
  EXPECT_EQ(n.get(), 100);  // the main thread's value is untouched
}

TEST(Local, TwoLocalsAreIndependent) {
  weft::local<int> a, b;
  a.get() = 1;
  b.get() = 2;
  EXPECT_EQ(a.get(), 1);
  EXPECT_EQ(b.get(), 2);
}

TEST(Local, ValueDestroyedWhenAWeftThreadEndsBeforeJoinReturns) {
  weft::local<Tracked> l;
  const int before = Tracked::alive.load();
  weft::Thread t([&] {
    l.get().value = 1;
    EXPECT_EQ(Tracked::alive.load(), before + 1);
  });
  t.start();
  t.join();
  EXPECT_EQ(Tracked::alive.load(), before);
}

TEST(Local, ValueDestroyedWhenAForeignThreadExits) {
  weft::local<Tracked> l;
  const int before = Tracked::alive.load();
  std::thread t([&] { l.get().value = 2; });
  t.join();
  EXPECT_EQ(Tracked::alive.load(), before);
}

TEST(Local, ValuesDestroyedWithTheLocalWhileThreadsLive) {
  auto l = std::make_unique<weft::local<Tracked>>();
  weft::Lock gate, ready;
  gate.acquire();
  ready.acquire();
  const int before = Tracked::alive.load();
  weft::Thread t([&] {
    (*l)->value = 3;
    ready.release();
    gate.acquire();  // the local dies while this thread still runs
    gate.release();
  });
  t.start();
  ready.acquire();
  (*l)->value = 4;
  EXPECT_EQ(Tracked::alive.load(), before + 2);
  l.reset();
  EXPECT_EQ(Tracked::alive.load(), before);
  gate.release();
  t.join();
  EXPECT_EQ(Tracked::alive.load(), before);
}

TEST(Local, ManyLocalsCreatedAndDestroyedOnOneThread) {
  const int before = Tracked::alive.load();
  for (int i = 0; i < 200; ++i) {
    weft::local<Tracked> l;
    l->value = i;
  }
  EXPECT_EQ(Tracked::alive.load(), before);
  weft::local<int> kept;
  kept.get() = 9;
  EXPECT_EQ(kept.get(), 9);
}

struct UsesAnotherLocal {
  static weft::local<int>* other;
  ~UsesAnotherLocal() { other->get() = 1; }  // creates a value during thread exit
};
weft::local<int>* UsesAnotherLocal::other = nullptr;

TEST(Local, DestructorMayTouchOtherLocals) {
  weft::local<int> other;
  UsesAnotherLocal::other = &other;
  weft::local<UsesAnotherLocal> l;
  weft::Thread t([&] { (void)l.get(); });
  t.start();
  t.join();
  SUCCEED();  // no leak, no deadlock (ASan checks the former)
}

TEST(Local, SubclassStyleStateLikePython) {
  struct Data {
    int calls = 0;
    std::string who;
  };
  weft::local<Data> data;
  std::vector<std::string> names(3);
  std::vector<std::unique_ptr<weft::Thread>> threads;
  for (int i = 0; i < 3; ++i) {
    threads.push_back(std::make_unique<weft::Thread>([&, i] {
      data->who = weft::current_thread().name();
      ++data->calls;
      ++data->calls;
      names[static_cast<std::size_t>(i)] = data->who + ":" + std::to_string(data->calls);
    }));
  }
  for (auto& t : threads) t->start();
  for (auto& t : threads) t->join();
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(names[static_cast<std::size_t>(i)],
              threads[static_cast<std::size_t>(i)]->name() + ":2");
}

}  // namespace
