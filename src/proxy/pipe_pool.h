// PipePool: the splice pipes of one worker.
//
// splice(2) moves socket pages through a pipe. A connection holds a pipe only while bytes sit in
// it, so idle connections cost no pipe and no fds; an empty pipe goes back to the pool. Pipes are
// enlarged with F_SETPIPE_SZ (1 MiB by default: bench/proxy measured 8.6 Gbit/s through
// 1 MiB pipes against 6.6 through the 64 KiB default). The kernel caps the pages an unprivileged
// user may hold in pipes; past that F_SETPIPE_SZ fails and the pipe keeps its default size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace snare::proxy {

struct Pipe {
  int r = -1;
  int w = -1;
  bool valid() const { return r >= 0; }
};

class PipePool {
 public:
  explicit PipePool(uint32_t pipe_size, size_t max_idle = 64)
      : pipe_size_(pipe_size), max_idle_(max_idle) {}
  ~PipePool();
  PipePool(const PipePool&) = delete;
  PipePool& operator=(const PipePool&) = delete;

  // An empty pipe, or an invalid one when pipe2 fails (out of fds): the caller copies instead.
  Pipe get();
  // `empty` says whether the pipe holds no bytes; only empty pipes are reused.
  void put(Pipe p, bool empty);

 private:
  uint32_t pipe_size_;
  size_t max_idle_;
  std::vector<Pipe> idle_;
};

}  // namespace snare::proxy
