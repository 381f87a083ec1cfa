// The throwaway PostgreSQL cluster of the PostgreSQL tests (the store's, the CLI fleet's), for test
// code only.
//
// The cluster is started with scripts/postgres.sh the first time a test asks for cluster_url(), so
// a test process that never touches PostgreSQL never starts it; ClusterEnvironment (a GoogleTest
// global environment) lets go of it in TearDown. CTest runs each test in a process of its own,
// often two at a time, so the processes of one checkout share one cluster (in the temp directory,
// named after the checkout): each process registers itself under a file lock, the first one starts
// the cluster (initdb once, later starts are quick) and the last one out stops it. A process killed
// mid-test is noticed as dead by the next one to leave.
//
// Each test gets an empty schema of its own (fresh_database()): the store's tables are created in it
// through the connection's search_path, so tests never see each other's rows.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <pqxx/pqxx>
#include <string>

namespace bucketpay::pgtest {

namespace fs = std::filesystem;

inline fs::path cluster_dir() {
  const std::string script = BUCKETPAY_POSTGRES_SCRIPT;
  return fs::temp_directory_path() / ("bucketpay-pgtest-" + std::to_string(getuid()) + "-" +
                                      std::to_string(std::hash<std::string>{}(script) % 1000000007));
}

// Runs a shell command; its stdout's last line, or nullopt when it failed.
inline std::optional<std::string> run_command(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return std::nullopt;
  }
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, pipe) != nullptr) {
    out += buf;
  }
  if (pclose(pipe) != 0) {
    return std::nullopt;
  }
  while (!out.empty() && out.back() == '\n') {
    out.pop_back();
  }
  const std::size_t nl = out.rfind('\n');
  return nl == std::string::npos ? out : out.substr(nl + 1);
}

// Holds the cluster's registration lock while alive.
class ClusterLock {
 public:
  ClusterLock() {
    const std::string path = cluster_dir().string() + ".lock";
    fd_ = open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ >= 0) {
      while (flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
  }
  ~ClusterLock() {
    if (fd_ >= 0) {
      flock(fd_, LOCK_UN);
      close(fd_);
    }
  }
  ClusterLock(const ClusterLock&) = delete;
  ClusterLock& operator=(const ClusterLock&) = delete;

 private:
  int fd_ = -1;
};

// This process's use of the cluster: started (or joined) on first use, let go of by release().
class Cluster {
 public:
  static Cluster& instance() {
    static Cluster cluster;
    return cluster;
  }

  // The cluster's URL (database `bucketpay`), starting or joining the cluster on the first call;
  // empty when it cannot be started (the test then fails on it).
  const std::string& url() {
    if (!joined_) join();
    return url_;
  }

  // Unregisters this process; the last process out stops the cluster.
  void release() {
    if (!joined_) return;
    joined_ = false;
    const ClusterLock lock;
    std::error_code ec;
    fs::remove(users_dir() / std::to_string(getpid()), ec);
    bool others = false;
    for (const auto& entry : fs::directory_iterator(users_dir(), ec)) {
      const pid_t pid = static_cast<pid_t>(std::stol(entry.path().filename().string()));
      if (kill(pid, 0) == 0 || errno == EPERM) {
        others = true;
      } else {
        fs::remove(entry.path(), ec);  // died without leaving
      }
    }
    if (!others) {
      EXPECT_TRUE(run_command(std::string("'") + BUCKETPAY_POSTGRES_SCRIPT + "' stop '" + cluster_dir().string() + "'"))
          << "scripts/postgres.sh stop failed";
    }
  }

 private:
  void join() {
    joined_ = true;
    const ClusterLock lock;
    const fs::path dir = cluster_dir();
    std::optional<std::string> url = running_url(dir);
    if (!url) url = run_command(std::string("'") + BUCKETPAY_POSTGRES_SCRIPT + "' start '" + dir.string() + "'");
    EXPECT_TRUE(url.has_value() && url->rfind("postgresql://", 0) == 0)
        << "scripts/postgres.sh start " << dir << " failed (is the postgresql package installed?)";
    if (url && url->rfind("postgresql://", 0) == 0) url_ = *url;
    fs::create_directories(users_dir());
    std::ofstream(users_dir() / std::to_string(getpid())) << "";
  }

  static fs::path users_dir() { return cluster_dir().string() + ".users"; }

  // The URL of the cluster when it is up already (another test process started it): connecting is
  // much quicker than running the script.
  static std::optional<std::string> running_url(const fs::path& dir) {
    std::ifstream in(dir / "url");
    std::string url;
    if (!std::getline(in, url) || url.empty()) return std::nullopt;
    try {
      pqxx::connection c(url + "?connect_timeout=2");
      return url;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

  bool joined_ = false;
  std::string url_;
};

// The cluster's URL (database `bucketpay`), starting the cluster on first use.
inline const std::string& cluster_url() { return Cluster::instance().url(); }

// Lets go of the cluster after the last test (register it with AddGlobalTestEnvironment, or call
// SetUp/TearDown around a suite).
class ClusterEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { Cluster::instance().release(); }
};

// An empty schema of its own for one test, dropped when this goes out of scope.
class FreshDatabase {
 public:
  FreshDatabase() {
    static std::atomic<int> counter{0};
    schema_ = "t_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    pqxx::connection c(cluster_url());
    pqxx::nontransaction txn(c);
    txn.exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    txn.exec("CREATE SCHEMA " + schema_);
  }
  ~FreshDatabase() {
    try {
      pqxx::connection c(cluster_url());
      pqxx::nontransaction txn(c);
      txn.exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "dropping schema " << schema_ << ": " << e.what();
    }
  }
  FreshDatabase(const FreshDatabase&) = delete;
  FreshDatabase& operator=(const FreshDatabase&) = delete;

  // The cluster's URL with this schema as the search path.
  [[nodiscard]] std::string url() const { return cluster_url() + "?options=-csearch_path%3D" + schema_; }
  [[nodiscard]] const std::string& schema() const { return schema_; }

  // Runs SQL in the schema directly, behind the store's back; the rows it returns.
  pqxx::result exec(const std::string& sql) const {
    pqxx::connection c(url());
    pqxx::work txn(c);
    pqxx::result r = txn.exec(sql);
    txn.commit();
    return r;
  }

 private:
  std::string schema_;
};

}  // namespace bucketpay::pgtest
