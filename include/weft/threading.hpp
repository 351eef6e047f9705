// SPDX-License-Identifier: Apache-2.0
// weft/threading.hpp: everything of Python's `threading` module.   (import threading)
//
// Lock, RLock, Condition, Semaphore, BoundedSemaphore, Event, Barrier, Thread, Timer,
// local, and the module functions (current_thread, enumerate, set_excepthook, ...).
#pragma once

#include <mutex>  // std::scoped_lock / std::unique_lock: the C++ spelling of "with lock:"

#include "weft/barrier.hpp"
#include "weft/errors.hpp"
#include "weft/condition.hpp"
#include "weft/event.hpp"
#include "weft/local.hpp"
#include "weft/lock.hpp"
#include "weft/rlock.hpp"
#include "weft/semaphore.hpp"
#include "weft/thread.hpp"
#include "weft/timer.hpp"
