// A fast accept-and-close peer for the dial benchmarks: listens on 0.0.0.0
// on the given ports (so every 127.x address is a live peer) and accepts and
// closes as fast as it can, so the listener is never what limits a run.
// A port written as bPORT is a black hole instead: listen(fd, 0) with its
// accept queue filled by one connection that is never accepted, so the
// kernel drops every further SYN. Runs until stdin closes or SIGTERM.
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_acceptor PORT...\n");
    return 2;
  }
  int ep = epoll_create1(0);
  std::vector<int> listeners;
  for (int i = 1; i < argc; ++i) {
    bool black_hole = argv[i][0] == 'b';
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[i] + (black_hole ? 1 : 0))));
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 ||
        listen(fd, black_hole ? 0 : 65535) < 0) {
      std::perror("bind/listen");
      return 1;
    }
    if (black_hole) {
      int filler = socket(AF_INET, SOCK_STREAM, 0);
      sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (connect(filler, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
        std::perror("black hole filler");
        return 1;
      }
      continue;  // never accepted from
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    listeners.push_back(fd);
  }
  epoll_event in{};
  in.events = EPOLLIN;
  in.data.fd = 0;
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &in);
  std::printf("ready\n");
  std::fflush(stdout);
  epoll_event events[64];
  for (;;) {
    int n = epoll_wait(ep, events, 64, -1);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == 0) return 0;  // stdin closed: the benchmark is over
      for (;;) {
        int c = accept4(events[i].data.fd, nullptr, nullptr, 0);
        if (c < 0) break;
        close(c);
      }
    }
  }
}
