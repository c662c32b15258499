#include "tests/conformance/case_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <list>
#include <memory>

#include "ir/strings.h"
#include "tests/conformance/records.h"

namespace nyx::conformance {

namespace {

using Clock = std::chrono::steady_clock;

// How much of a child's stderr is kept for the message of a crash.
constexpr size_t kStderrTail = 2000;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One case running in a child process.
struct Child {
  size_t index = 0;
  pid_t pid = -1;
  int recordsFd = -1, stderrFd = -1;
  Clock::time_point start;
  CaseResult result;
  std::unique_ptr<RecordReader> reader;
  std::string stderrTail;
  bool timedOut = false;
};

// Reads what is available on `fd` into `sink`; closes it and sets it to -1
// at end of file.
template <class Sink> void drain(int &fd, Sink sink) {
  char buffer[65536];
  ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0) {
    ::close(fd);
    fd = -1;
    return;
  }
  sink(std::string_view(buffer, static_cast<size_t>(n)));
}

// The last lines of a child's stderr, for a crash message.
std::string tailText(const std::string &tail) {
  size_t start = tail.find_first_not_of(" \n");
  if (start == std::string::npos)
    return "";
  std::string text = tail.substr(start);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

// Fills in the result of a child that ended without its last record.
void explainEarlyEnd(Child &c, int waitStatus, double timeout) {
  std::string stage = c.reader->stage().empty() ? "start" : c.reader->stage();
  std::string why;
  if (c.timedOut)
    why = strCat("timed out after ", timeout, " s during ", stage);
  else if (WIFSIGNALED(waitStatus))
    why = strCat("crashed (", strsignal(WTERMSIG(waitStatus)), ") during ",
                 stage);
  else
    why = strCat("exited with status ", WEXITSTATUS(waitStatus), " during ",
                 stage);
  std::string tail = tailText(c.stderrTail);
  if (!tail.empty())
    why += strCat("; stderr: ", tail);
  if (c.reader->sawResult()) {
    c.result.interpreter = InterpreterStatus::Error;
    c.result.interpreterMessage = why;
  } else {
    c.result.status = Status::Error;
    c.result.message = why;
  }
}

std::unique_ptr<Child> startChild(const std::vector<TestCase> &cases,
                                  size_t index, const RunSettings &run) {
  int records[2], errors[2];
  if (::pipe(records) != 0)
    return nullptr;
  if (::pipe(errors) != 0) {
    ::close(records[0]);
    ::close(records[1]);
    return nullptr;
  }
  auto child = std::make_unique<Child>();
  child->index = index;
  child->result.testCase = cases[index];
  child->reader = std::make_unique<RecordReader>(child->result);
  child->start = Clock::now();
  fflush(stdout);
  fflush(stderr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // A case must not outlive the run (ctest may kill the parent).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(1);
    ::close(records[0]);
    ::close(errors[0]);
    ::dup2(errors[1], STDOUT_FILENO);
    ::dup2(errors[1], STDERR_FILENO);
    ::close(errors[1]);
    RecordWriter out(records[1]);
    runCase(cases[index], run, out);
    // Skips static destructors (LLVM's among them): the process is done.
    ::_exit(0);
  }
  ::close(records[1]);
  ::close(errors[1]);
  if (pid < 0) {
    ::close(records[0]);
    ::close(errors[0]);
    return nullptr;
  }
  child->pid = pid;
  child->recordsFd = records[0];
  child->stderrFd = errors[0];
  return child;
}

void finishChild(Child &c, const RunnerSettings &settings) {
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  c.result.seconds = secondsSince(c.start);
  if (!c.reader->done()) {
    explainEarlyEnd(c, status, settings.timeoutSeconds);
    return;
  }
  // Some errors say more on stderr than in their status (LLVM's JIT names
  // the symbols it could not find there).
  std::string tail = tailText(c.stderrTail);
  if (c.result.status == Status::Error && !tail.empty())
    c.result.message += strCat("; stderr: ", tail);
}

std::vector<CaseResult>
runForked(const std::vector<TestCase> &cases, const RunSettings &run,
          const RunnerSettings &settings,
          const std::function<void(const CaseResult &)> &onDone) {
  std::vector<CaseResult> results(cases.size());
  std::list<std::unique_ptr<Child>> running;
  size_t next = 0;
  auto finish = [&](std::unique_ptr<Child> &c) {
    finishChild(*c, settings);
    onDone(c->result);
    results[c->index] = std::move(c->result);
  };
  while (next < cases.size() || !running.empty()) {
    while (next < cases.size() &&
           running.size() < static_cast<size_t>(std::max(1, settings.jobs))) {
      auto child = startChild(cases, next, run);
      if (!child) {
        CaseResult failed;
        failed.testCase = cases[next];
        failed.message = strCat("cannot start a process: ", strerror(errno));
        onDone(failed);
        results[next] = std::move(failed);
      } else {
        running.push_back(std::move(child));
      }
      ++next;
    }
    std::vector<pollfd> fds;
    for (auto &c : running)
      for (int fd : {c->recordsFd, c->stderrFd})
        if (fd >= 0)
          fds.push_back({fd, POLLIN, 0});
    if (!fds.empty())
      ::poll(fds.data(), fds.size(), 100);
    for (auto it = running.begin(); it != running.end();) {
      Child &c = **it;
      for (const pollfd &p : fds) {
        if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
          continue;
        if (p.fd == c.recordsFd)
          drain(c.recordsFd, [&](std::string_view s) { c.reader->feed(s); });
        else if (p.fd == c.stderrFd)
          drain(c.stderrFd, [&](std::string_view s) {
            c.stderrTail.append(s);
            if (c.stderrTail.size() > kStderrTail)
              c.stderrTail.erase(0, c.stderrTail.size() - kStderrTail);
          });
      }
      if (!c.timedOut && secondsSince(c.start) > settings.timeoutSeconds) {
        c.timedOut = true;
        ::kill(c.pid, SIGKILL);
      }
      if (c.recordsFd < 0 && c.stderrFd < 0) {
        finish(*it);
        it = running.erase(it);
      } else {
        ++it;
      }
    }
  }
  return results;
}

// Runs a case in this process, its records going through a temporary file.
CaseResult runHere(const TestCase &testCase, const RunSettings &run) {
  CaseResult result;
  result.testCase = testCase;
  RecordReader reader(result);
  Clock::time_point start = Clock::now();
  FILE *file = tmpfile();
  if (!file) {
    result.message =
        strCat("cannot create a temporary file: ", strerror(errno));
    return result;
  }
  RecordWriter out(fileno(file));
  runCase(testCase, run, out);
  int fd = ::dup(fileno(file)); // drain closes it at end of file
  ::lseek(fd, 0, SEEK_SET);
  while (fd >= 0)
    drain(fd, [&](std::string_view s) { reader.feed(s); });
  fclose(file);
  result.seconds = secondsSince(start);
  return result;
}

} // namespace

std::vector<CaseResult>
runCases(const std::vector<TestCase> &cases, const RunSettings &run,
         const RunnerSettings &runner,
         const std::function<void(const CaseResult &)> &onDone) {
  if (!runner.inProcess)
    return runForked(cases, run, runner, onDone);
  std::vector<CaseResult> results;
  for (const TestCase &c : cases) {
    results.push_back(runHere(c, run));
    onDone(results.back());
  }
  return results;
}

} // namespace nyx::conformance
