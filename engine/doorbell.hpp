#pragma once
// A consumer that sleeps in a syscall between polls of its queues is woken
// by their producers, but only while it sleeps: a ring costs the producer a
// syscall, so a busy consumer is never rung, and an idle one does not have
// to wake every few milliseconds to look (the peer-wire workers did, 200
// times a second each, which was most of an idle seeder's CPU).
//
// The handshake is Dekker's: the consumer says it is going to sleep, then
// looks at its queues once more; a producer pushes, then looks whether the
// consumer sleeps. With a full fence on each side at least one of them sees
// the other's write, so a push is never left unnoticed until a timeout.
#include <atomic>

namespace swarmdial {

class Doorbell {
 public:
  virtual ~Doorbell() = default;

  // Producer, after a push. Only the first ring per sleep reaches wake().
  void ring() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (asleep_.load(std::memory_order_relaxed) && asleep_.exchange(false)) wake();
  }
  // Consumer, before its last look at the queues and its wait.
  void going_to_sleep() {
    asleep_.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  // Consumer, once it is up again (rung or not).
  void awake() { asleep_.store(false, std::memory_order_relaxed); }

 protected:
  virtual void wake() = 0;  // makes the consumer's wait return (an eventfd write)

 private:
  alignas(64) std::atomic<bool> asleep_{false};
};

}  // namespace swarmdial
