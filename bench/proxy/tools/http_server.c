/* http_server: the smallest keep-alive HTTP/1.1 responder, for wrk (instead of nginx).
 * usage: http_server PORT   (listens on [::]:PORT, dual-stack, one epoll thread)
 * Answers every request (a header block ending in CRLFCRLF) with a fixed 21-byte body. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESP[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n"
    "Connection: keep-alive\r\n\r\nhello from the bench\n";

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: http_server PORT\n");
    return 2;
  }
  int l = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1, zero = 0;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(atoi(argv[1]))};
  if (bind(l, (void*)&a, sizeof a) || listen(l, 4096)) {
    perror("listen");
    return 1;
  }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = l}, evs[256];
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  char buf[16384];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == l) {
        int c;
        while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        }
        continue;
      }
      ssize_t r = recv(fd, buf, sizeof buf, 0);
      if (r <= 0) {
        close(fd);
        continue;
      }
      /* count complete requests in this read (wrk sends one at a time per connection) */
      int reqs = 0;
      for (ssize_t j = 3; j < r; j++)
        if (buf[j] == '\n' && buf[j - 1] == '\r' && buf[j - 2] == '\n' && buf[j - 3] == '\r')
          reqs++;
      for (int k = 0; k < reqs; k++)
        if (send(fd, RESP, sizeof RESP - 1, MSG_NOSIGNAL) < 0) break;
    }
  }
}
