#pragma once
// Atomic file writes and bounded file reads (POSIX, Linux).
//
// AtomicFile writes to a temporary file next to the target (same directory, so the final
// rename(2) never crosses a file system), then: fsync the file, close it, rename it over the
// target, fsync the directory. A reader therefore sees either the old file or the complete new
// one, never a prefix, even after a crash or power loss.
//
// Contract
//   requires: the target's directory exists and is writable.
//   ensures:  on success the target holds exactly the bytes written and is durable;
//             on any failure (cannot create, write error such as ENOSPC or EFBIG, fsync error,
//             rename error) a ctnn::FileError naming the path and the errno text is thrown,
//             the temporary file is removed and the old target (if any) is untouched.
//   A failure of the final directory fsync is reported too (the new file is then in place but
//   its rename may not survive a crash); file systems that do not support fsync on directories
//   (EINVAL) are treated as success.
//   New files get mode 0666 & ~umask (like std::ofstream).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctnn/config.hpp"
#include "ctnn/error.hpp"

namespace ctnn::io {

namespace detail {

// FileError for a failed system call: "<path>: expected <action> to succeed, found <strerror> (errno N)".
CTNN_COLD inline FileError os_error(const std::filesystem::path& path, const std::string& action, int err) {
  return FileError(path.string(), action + " to succeed",
                   std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")");
}

inline std::atomic<std::uint64_t> temp_counter{0};

// ".name.tmp.<pid>.<counter>" in the directory of `target`.
CTNN_COLD inline std::filesystem::path temp_path_for(const std::filesystem::path& target) {
  const auto n = temp_counter.fetch_add(1, std::memory_order_relaxed);
  std::string name = "." + target.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
                     std::to_string(n);
  return target.parent_path() / name;
}

inline int close_retry(int fd) {
  // Linux closes the descriptor even when close() fails with EINTR: never retry.
  return ::close(fd);
}

}  // namespace detail

// A file being written atomically. Write with write(), then commit(); destroying it without
// commit() (an exception, an early return) removes the temporary file and leaves the target alone.
class AtomicFile {
 public:
  CTNN_COLD explicit AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
    if (target_.empty()) throw FileError("<empty path>", "a file name", "an empty path");
    if (!target_.has_filename())
      throw FileError(target_.string(), "a path naming a file", "a path ending in a separator");
    temp_ = detail::temp_path_for(target_);
    for (;;) {
      fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0) break;
      if (errno == EINTR) continue;
      const int err = errno;
      throw detail::os_error(target_, "creating temporary file " + temp_.string(), err);
    }
  }

  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  ~AtomicFile() { abandon(); }

  // Appends bytes. Throws FileError (and removes the temporary file) on a write error.
  CTNN_COLD void write(std::span<const std::byte> bytes) {
    require_open("write");
    const auto* p = reinterpret_cast<const char*>(bytes.data());
    std::size_t left = bytes.size();
    while (left > 0) {
      const ::ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail("writing " + std::to_string(bytes.size()) + " bytes to " + temp_.string(), errno);
      }
      if (n == 0) fail("writing to " + temp_.string(), ENOSPC);  // no progress: treat as full
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    written_ += bytes.size();
  }
  void write(std::string_view text) { write(std::as_bytes(std::span(text.data(), text.size()))); }

  // fsync, close, rename over the target, fsync the directory. Throws FileError on failure.
  CTNN_COLD void commit() {
    require_open("commit");
    while (::fsync(fd_) != 0) {
      if (errno == EINTR) continue;
      fail("fsync of " + temp_.string(), errno);
    }
    const int fd = std::exchange(fd_, -1);
    if (detail::close_retry(fd) != 0 && errno != EINTR) fail("closing " + temp_.string(), errno);
    if (::rename(temp_.c_str(), target_.c_str()) != 0) fail("renaming " + temp_.string() + " over the target", errno);
    committed_ = true;
    sync_directory();
  }

  const std::filesystem::path& path() const noexcept { return target_; }
  const std::filesystem::path& temp_path() const noexcept { return temp_; }
  std::size_t bytes_written() const noexcept { return written_; }

 private:
  CTNN_COLD void require_open(const char* what) const {
    if (fd_ < 0)
      throw FileError(target_.string(), std::string("an open AtomicFile for ") + what,
                      committed_ ? "a file already committed" : "a file abandoned after an error");
  }

  // Removes the temporary file, then throws.
  [[noreturn]] void fail(const std::string& action, int err) {
    abandon();
    throw detail::os_error(target_, action, err);
  }

  void abandon() noexcept {
    if (fd_ >= 0) {
      detail::close_retry(fd_);
      fd_ = -1;
    }
    if (!committed_ && !temp_.empty()) {
      ::unlink(temp_.c_str());
      temp_.clear();
    }
  }

  CTNN_COLD void sync_directory() {
    std::filesystem::path dir = target_.parent_path();
    if (dir.empty()) dir = ".";
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) throw detail::os_error(target_, "opening directory " + dir.string() + " to fsync it", errno);
    int rc;
    while ((rc = ::fsync(dfd)) != 0 && errno == EINTR) {
    }
    const int err = errno;
    ::close(dfd);
    if (rc != 0 && err != EINVAL)
      throw detail::os_error(target_, "fsync of directory " + dir.string() + " (the new file is in place)", err);
  }

  std::filesystem::path target_, temp_;
  int fd_ = -1;
  bool committed_ = false;
  std::size_t written_ = 0;
};

// Replaces `path` with `bytes` atomically (see AtomicFile).
CTNN_COLD inline void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}
CTNN_COLD inline void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  write_file_atomically(path, std::as_bytes(std::span(text.data(), text.size())));
}

// The first min(size, limit) bytes of a regular file, and its full size. Used by loaders that
// know how large a valid file can be: they never allocate more than `limit` bytes for a file,
// whatever its size, and can still report "N trailing bytes" exactly.
struct FileBytes {
  std::vector<std::byte> bytes;
  std::uint64_t size = 0;  // the file's full size (bytes.size() < size when it was capped)
};

CTNN_COLD inline FileBytes read_file(const std::filesystem::path& path, std::size_t limit) {
  int fd;
  while ((fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (fd < 0) throw detail::os_error(path, "opening the file for reading", errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct ::stat st {};
  if (::fstat(fd, &st) != 0) throw detail::os_error(path, "fstat", errno);
  if (!S_ISREG(st.st_mode))
    throw FileError(path.string(), "a regular file",
                    S_ISDIR(st.st_mode) ? "a directory" : "a special file (device, pipe or socket)");
  FileBytes out;
  out.size = static_cast<std::uint64_t>(st.st_size);
  const std::size_t want = out.size < limit ? static_cast<std::size_t>(out.size) : limit;
  out.bytes.resize(want);
  std::size_t got = 0;
  while (got < want) {
    const ::ssize_t n = ::read(fd, reinterpret_cast<char*>(out.bytes.data()) + got, want - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw detail::os_error(path, "reading the file", errno);
    }
    if (n == 0) break;  // shrank while we read
    got += static_cast<std::size_t>(n);
  }
  out.bytes.resize(got);
  if (got < want) out.size = got;
  return out;
}

}  // namespace ctnn::io
