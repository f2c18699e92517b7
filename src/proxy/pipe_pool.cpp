// PipePool (see pipe_pool.h).
#include "proxy/pipe_pool.h"

#include <fcntl.h>
#include <unistd.h>

namespace snare::proxy {

PipePool::~PipePool() {
  for (Pipe p : idle_) {
    ::close(p.r);
    ::close(p.w);
  }
}

Pipe PipePool::get() {
  if (!idle_.empty()) {
    Pipe p = idle_.back();
    idle_.pop_back();
    return p;
  }
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) return Pipe{};
  // Past the user's pipe-page limit this fails and the pipe keeps its default size.
  if (pipe_size_ > 0) (void)::fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(pipe_size_));
  return Pipe{fds[0], fds[1]};
}

void PipePool::put(Pipe p, bool empty) {
  if (!p.valid()) return;
  if (empty && idle_.size() < max_idle_) {
    idle_.push_back(p);
    return;
  }
  ::close(p.r);
  ::close(p.w);
}

}  // namespace snare::proxy
