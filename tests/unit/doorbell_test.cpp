// The doorbell between a sleeping consumer and its producers: a push while
// the consumer sleeps wakes it, a push while it works costs no wake, and no
// push is left waiting for the consumer's timeout.
#include "engine/doorbell.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "engine/spsc_queue.hpp"
#include "uring/peers/eventfd_doorbell.hpp"

namespace swarmdial {
namespace {

class CountingDoorbell : public Doorbell {
 public:
  int wakes = 0;

 protected:
  void wake() override { ++wakes; }
};

TEST(Doorbell, RingsOnlyASleepingConsumerAndOncePerSleep) {
  CountingDoorbell bell;
  bell.ring();
  EXPECT_EQ(bell.wakes, 0) << "a consumer at work is not woken";
  bell.going_to_sleep();
  bell.ring();
  bell.ring();
  EXPECT_EQ(bell.wakes, 1) << "one wake per sleep, however many pushes";
  bell.awake();
  bell.ring();
  EXPECT_EQ(bell.wakes, 1);
  bell.going_to_sleep();
  bell.awake();  // woke by itself (a timeout): later pushes need no wake
  bell.ring();
  EXPECT_EQ(bell.wakes, 1);
}

// A real eventfd and two threads. The consumer sleeps up to 5 s at a time,
// so a single push left unnoticed would show as a run of seconds.
TEST(Doorbell, NoPushWaitsForTheConsumersTimeout) {
  constexpr int kItems = 20000;
  EventfdDoorbell bell;
  SpscQueue<int> q(64);
  std::atomic<int> got{0};
  std::atomic<int> sleeps{0};
  auto t0 = std::chrono::steady_clock::now();
  std::thread consumer([&] {
    int next = 0;
    while (next < kItems) {
      while (auto v = q.try_pop()) {
        ASSERT_EQ(*v, next);
        ++next;
      }
      if (next == kItems) break;
      bell.going_to_sleep();
      if (q.empty()) {
        sleeps.fetch_add(1);
        pollfd p{bell.fd(), POLLIN, 0};
        ::poll(&p, 1, 5000);
        uint64_t n;
        [[maybe_unused]] ssize_t r = ::read(bell.fd(), &n, sizeof n);
      }
      bell.awake();
    }
    got.store(next);
  });
  for (int i = 0; i < kItems; ++i) {
    while (!q.try_push(i)) std::this_thread::yield();
    bell.ring();
    // Now and then the producer pauses, so the consumer does go to sleep.
    if (i % 97 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  consumer.join();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(got.load(), kItems);
  EXPECT_GT(sleeps.load(), 10) << "the consumer never slept: the test proved nothing";
  EXPECT_LT(s, 4.0) << "a push waited for the consumer's 5 s timeout";
}

}  // namespace
}  // namespace swarmdial
