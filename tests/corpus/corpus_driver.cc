// corpus_driver: runs the bad-input corpus (tests/corpus/cases/*.cases) through the real
// matih-provisioner against the real local stack (var/stack.env), and checks for each case the
// exit code, that stderr names the problem (a regex), and that nothing changed anywhere.
//
// Setup, once per run: a database of its own on the stack's PostgreSQL, a folder with a catalog
// (steps 1-2 of the real matih-validation plugin; steps 3-4 of the real matih-control-plane plugin
// on that database: tenant row, admin user, invite token in the secret store; test.file steps for
// the rest), a config, keys, and fixture tenants in known states (ACTIVE, PENDING, SUSPENDED,
// PENDING_DELETION, FAILED, ROLLED_BACK, DELETED).
// What "nothing changed" covers: every database of both PostgreSQL servers and the fixture's files,
// before and after every case (DatabaseWatch, over open connections); the other servers
// (tests/corpus/stack_state.sh: git refs, Redis, PowerDNS, Azurite, NATS, Chroma, MailDev, files)
// after every group of 20 cases, a change there naming the group's cases; and everything, with a
// pg_dump of every database, at the start and the end of the run.
//
// Single-threaded; one child process at a time. Case file format: tests/corpus/README.md.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Child processes

struct Result {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;
  std::string out, err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

// Runs argv with env (NAME=VALUE strings) in cwd, stdin from stdin_file ("" = /dev/null),
// stdout and stderr captured through files in scratch, killed after timeout.
Result Run(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& cwd,
           const std::string& stdin_file, const std::string& scratch,
           std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  std::string out_path = scratch + "/.stdout", err_path = scratch + "/.stderr";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, stdin_file.empty() ? "/dev/null" : stdin_file.c_str(), O_RDONLY,
                                   0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> av, ev;
  for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  for (const auto& e : env) ev.push_back(const_cast<char*>(e.c_str()));
  ev.push_back(nullptr);
  // posix_spawn has no chdir (before glibc 2.29's _np): change ours around the call.
  std::string old_cwd = fs::current_path().string();
  fs::current_path(cwd);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, av[0], &fa, &attr, av.data(), ev.data());
  fs::current_path(old_cwd);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  Result r;
  if (rc != 0) {
    r.exit_code = 127;
    r.err = std::string("spawn failed: ") + std::strerror(rc);
    return r;
  }
  auto deadline = Clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (Clock::now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Cases

struct SideFile {
  enum Kind { kContent, kSymlink, kDir, kCopy, kPluginDir } kind = kContent;
  std::string name, content;  // content, the symlink's target, or the file copied
  long bytes = -1;            // kCopy: only the first bytes
  std::optional<unsigned> mode;
};

struct Case {
  std::string name, source;  // source: file:line
  std::string args;          // raw, tokenised after substitution
  std::optional<std::string> stdin_text;
  std::vector<SideFile> files;
  std::vector<std::string> env;
  bool noconfig = false;
  int expect_code = 2;
  std::string expect_regex;
  std::string xfail;  // non-empty: known to fail, names the issue
};

[[noreturn]] void Die(const std::string& msg) {
  std::cerr << "corpus: " << msg << "\n";
  std::exit(2);
}

std::string Trim(std::string s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

// Backslash escapes: \n \t \r \\ \" \' \xHH \e.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'e': out += '\x1b'; break;
      case 'x':
        if (i + 2 < s.size() + 1) {
          out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
          i += 2;
        }
        break;
      default: out += c;
    }
  }
  return out;
}

// Generated content: "repeat N TEXT", "nest N" (JSON arrays), "yamlbomb N", "random N".
std::string Generate(const std::string& spec, const std::string& where) {
  std::istringstream in(spec);
  std::string what;
  long n = 0;
  in >> what >> n;
  std::string rest;
  std::getline(in, rest);
  rest = Unescape(rest.empty() ? rest : rest.substr(1));
  if (what == "repeat") {
    std::string out;
    out.reserve(rest.size() * n);
    for (long i = 0; i < n; ++i) out += rest;
    return out;
  }
  if (what == "nest") return std::string(n, '[') + std::string(n, ']');
  if (what == "nestobj") {
    std::string out;
    for (long i = 0; i < n; ++i) out += "{\"a\":";
    out += "1";
    out += std::string(n, '}');
    return out;
  }
  if (what == "random") {
    std::string out;
    unsigned x = 2463534242u;
    for (long i = 0; i < n; ++i) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      out += static_cast<char>(x & 0xff);
    }
    return out;
  }
  Die(where + ": unknown generator '" + what + "'");
}

// Reads "<<EOF" blocks, "key: value" lines and the generators.
std::vector<Case> ParseCases(const std::string& path) {
  std::ifstream in(path);
  std::vector<Case> cases;
  std::string line;
  int lineno = 0;
  auto heredoc = [&](const std::string& marker) {
    std::string text, l;
    while (std::getline(in, l)) {
      ++lineno;
      if (Trim(l) == marker) return text;
      text += l + "\n";
    }
    Die(path + ": unterminated <<" + marker);
  };
  // value after the keyword: inline ("x: text"), a heredoc ("x <<EOF"), or generated ("x gen ...")
  auto value = [&](const std::string& rest, const std::string& where) -> std::string {
    std::string r = Trim(rest);
    if (r.rfind("<<", 0) == 0) return heredoc(Trim(r.substr(2)));
    if (r.rfind("gen ", 0) == 0) return Generate(r.substr(4), where);
    if (r.rfind(":", 0) == 0) return Unescape(Trim(r.substr(1)));
    Die(where + ": expected ': value', '<<MARK' or 'gen ...'");
  };
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    std::string where = path + ":" + std::to_string(lineno);
    std::string key = t.substr(0, t.find_first_of(" :"));
    std::string rest = t.substr(key.size());
    if (key == "case") {
      Case c;
      c.name = Trim(rest);
      c.source = where;
      cases.push_back(c);
      continue;
    }
    if (cases.empty()) Die(where + ": '" + key + "' before the first 'case'");
    Case& c = cases.back();
    if (key == "args") {
      c.args = Trim(Trim(rest).substr(1));
    } else if (key == "stdin") {
      c.stdin_text = value(rest, where);
    } else if (key == "file") {
      std::string r = Trim(rest);
      size_t sp = r.find_first_of(" :");
      SideFile f;
      f.name = r.substr(0, sp);
      f.content = value(r.substr(sp), where);
      c.files.push_back(f);
    } else if (key == "symlink" || key == "mkdir") {
      std::istringstream s(rest);
      SideFile f;
      s >> f.name >> f.content;
      f.kind = key == "mkdir" ? SideFile::kDir : SideFile::kSymlink;
      c.files.push_back(f);
    } else if (key == "copy") {
      std::istringstream s(rest);
      SideFile f;
      f.kind = SideFile::kCopy;
      s >> f.name >> f.content >> f.bytes;
      c.files.push_back(f);
    } else if (key == "plugindir") {
      SideFile f;
      f.kind = SideFile::kPluginDir;
      f.name = Trim(rest);
      c.files.push_back(f);
    } else if (key == "mode") {
      std::istringstream s(rest);
      std::string name, mode;
      s >> name >> mode;
      bool found = false;
      for (auto& f : c.files)
        if (f.name == name) f.mode = std::stoul(mode, nullptr, 8), found = true;
      if (!found) Die(where + ": mode of unknown file " + name);
    } else if (key == "env") {
      c.env.push_back(Unescape(Trim(rest)));
    } else if (key == "noconfig") {
      c.noconfig = true;
    } else if (key == "expect") {
      std::string r = Trim(Trim(rest).substr(1));
      size_t sp = r.find(' ');
      c.expect_code = std::stoi(r.substr(0, sp));
      c.expect_regex = sp == std::string::npos ? "" : Trim(r.substr(sp));
    } else if (key == "xfail") {
      c.xfail = Trim(Trim(rest).substr(1));
    } else {
      Die(where + ": unknown keyword '" + key + "'");
    }
  }
  for (const auto& c : cases) {
    if (c.args.empty()) Die(c.source + ": case " + c.name + " has no args");
    if (c.expect_regex.empty()) Die(c.source + ": case " + c.name + " has no 'expect: CODE REGEX'");
  }
  return cases;
}

// Shell-like words: '...' literal, "..." and bare words with backslash escapes.
std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  bool have = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == ' ' || c == '\t') {
      if (have) out.push_back(cur), cur.clear(), have = false;
    } else if (c == '\'') {
      size_t end = s.find('\'', i + 1);
      if (end == std::string::npos) Die("unterminated ' in: " + s);
      cur += s.substr(i + 1, end - i - 1), have = true, i = end;
    } else if (c == '"') {
      std::string raw;
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) raw += s[i++];
        raw += s[i];
      }
      cur += Unescape(raw), have = true;
    } else if (c == '\\' && i + 1 < s.size()) {
      size_t len = s[i + 1] == 'x' ? 4 : 2;
      cur += Unescape(s.substr(i, len)), have = true, i += len - 1;
    } else {
      cur += c, have = true;
    }
  }
  if (have) out.push_back(cur);
  return out;
}

// ${NAME} from vars, ${file:NAME} (a side file of the case), ${repeat:N:TEXT}.
std::string Substitute(const std::string& s, const std::map<std::string, std::string>& vars,
                       const std::string& case_dir, const std::string& where) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t at = s.find("${", i);
    if (at == std::string::npos) {
      out += s.substr(i);
      break;
    }
    out += s.substr(i, at - i);
    size_t end = s.find('}', at);
    if (end == std::string::npos) Die(where + ": unterminated ${");
    std::string name = s.substr(at + 2, end - at - 2);
    if (name.rfind("file:", 0) == 0) {
      out += case_dir + "/" + name.substr(5);
    } else if (name.rfind("repeat:", 0) == 0) {
      size_t colon = name.find(':', 7);
      long n = std::stol(name.substr(7, colon - 7));
      std::string text = name.substr(colon + 1);
      for (long k = 0; k < n; ++k) out += text;
    } else {
      auto v = vars.find(name);
      if (v == vars.end()) Die(where + ": unknown variable ${" + name + "}");
      out += v->second;
    }
    i = end + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// State of the stack

using State = std::map<std::string, std::string>;

State TakeState(const std::string& script, const std::vector<std::string>& env, const std::string& scratch) {
  Result r = Run({"bash", script}, env, scratch, "", scratch, std::chrono::seconds(120));
  if (r.exit_code != 0) Die("stack_state.sh failed (" + std::to_string(r.exit_code) + "): " + r.err);
  State s;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    size_t sp = line.rfind(' ');
    if (sp != std::string::npos) s[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return s;
}

// Every database of both PostgreSQL servers, per case, over connections kept open: the cluster
// (databases and roles) and, per database, its columns, functions, triggers, sequence positions
// and every row of every table (as md5 per table). What pg_dump shows, in milliseconds.
class DatabaseWatch {
 public:
  explicit DatabaseWatch(std::vector<std::string> admin_urls) : servers_(std::move(admin_urls)) {}

  void Take(State& into) {
    for (const auto& admin : servers_) {
      std::string server = admin.substr(0, admin.rfind('/'));
      std::string dbs, roles;
      {
        pqxx::nontransaction tx(Connection(admin));
        dbs = tx.exec1(
                    "SELECT coalesce(string_agg(datname, ' ' ORDER BY datname), '') FROM pg_database "
                    "WHERE datallowconn")[0]
                  .as<std::string>();
        roles =
            tx.exec1("SELECT coalesce(string_agg(r::text, E'\\n' ORDER BY rolname), '') FROM pg_roles r")[0]
                .as<std::string>();
      }
      into["pg " + server] = dbs + "\n" + roles;
      std::istringstream names(dbs);
      std::string db;
      while (names >> db) into["pg " + server + "/" + db] = Fingerprint(Connection(server + "/" + db));
    }
  }

 private:
  pqxx::connection& Connection(const std::string& url) {
    auto it = conns_.find(url);
    if (it == conns_.end() || !it->second->is_open())
      it = conns_.insert_or_assign(url, std::make_unique<pqxx::connection>(url)).first;
    return *it->second;
  }

  static std::string Fingerprint(pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    std::string out = tx.exec1(R"SQL(
      SELECT concat_ws(E'\n',
        (SELECT string_agg(table_schema || '.' || table_name || '.' || column_name || ' ' || data_type || ' ' ||
                           coalesce(column_default, ''), E'\n' ORDER BY 1)
           FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')),
        (SELECT string_agg(p.oid::regprocedure::text || ' ' || md5(p.prosrc), E'\n' ORDER BY 1) FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')),
        (SELECT string_agg(tgrelid::regclass::text || ' ' || tgname, E'\n' ORDER BY 1) FROM pg_trigger
          WHERE NOT tgisinternal),
        (SELECT string_agg(schemaname || '.' || sequencename || ' ' || coalesce(last_value::text, '-'), E'\n'
                           ORDER BY 1) FROM pg_sequences))
    )SQL")[0]
                          .as<std::string>();
    std::string tables;
    for (const auto& row : tx.exec(R"SQL(
        SELECT format('SELECT %L || '' '' || count(*) || '' '' || md5(coalesce(string_agg(t::text, E''\n''
                       ORDER BY t::text), '''')) FROM %I.%I t', n.nspname || '.' || c.relname, n.nspname, c.relname)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1)SQL"))
      tables += (tables.empty() ? "" : " UNION ALL ") + row[0].as<std::string>();
    if (!tables.empty())
      for (const auto& row : tx.exec(tables)) out += "\n" + row[0].as<std::string>();
    return out;
  }

  std::vector<std::string> servers_;
  std::map<std::string, std::unique_ptr<pqxx::connection>> conns_;
};

// The files under the given folders: names, modes and contents (not test.file's call counters).
void TakeFiles(const std::vector<std::string>& dirs, State& into) {
  for (const auto& dir : dirs) {
    std::error_code ec;
    std::vector<std::string> lines;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      auto st = it->symlink_status(ec);
      // test.file counts its own calls (<step>.calls), observe included: not a target's state.
      if (it->path().extension() == ".calls") continue;
      std::string line = it->path().string() + " " + std::to_string(static_cast<unsigned>(st.permissions()));
      if (fs::is_regular_file(st))
        line += " " + std::to_string(std::hash<std::string>{}(ReadFile(it->path())));
      lines.push_back(line);
    }
    std::sort(lines.begin(), lines.end());
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    into["files " + dir] = text;
  }
}

std::vector<std::string> Diff(const State& a, const State& b) {
  std::vector<std::string> out;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end())
      out.push_back(k + " (gone)");
    else if (it->second != v)
      out.push_back(k);
  }
  for (const auto& [k, v] : b)
    if (!a.count(k)) out.push_back(k + " (new)");
  return out;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\')
      out += '\\', out += static_cast<char>(c);
    else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else
      out += static_cast<char>(c);
  }
  return out + "\"";
}

std::string Clip(const std::string& s, size_t n = 300) {
  std::string t = s.size() > n ? s.substr(0, n) + "..." : s;
  for (char& c : t)
    if (c == '\n') c = '|';
  return t;
}

std::map<std::string, std::string> ReadEnvFile(const std::string& path) {
  std::map<std::string, std::string> m;
  std::ifstream in(path);
  if (!in) Die("no " + path + ": start the stack first (MATIH_PORT_BASE=... scripts/stack up)");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t eq = line.find('=');
    if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return m;
}

struct Options {
  std::string bin, root, build, cases_dir, json_path, filter;
  bool verbose = false, keep = false;
  bool watch_stack = true;  // --no-stack-checks turns off every "nothing changed" check
};

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--bin")
      o.bin = next();
    else if (a == "--root")
      o.root = next();
    else if (a == "--build")
      o.build = next();
    else if (a == "--cases")
      o.cases_dir = next();
    else if (a == "--json")
      o.json_path = next();
    else if (a == "--filter")
      o.filter = next();
    else if (a == "--keep")
      o.keep = true;
    else if (a == "--no-stack-checks")
      o.watch_stack = false;
    else if (a == "-v" || a == "--verbose")
      o.verbose = true;
    else if (a == "-h" || a == "--help") {
      std::cout << "corpus_driver --bin MATIH_PROVISIONER --root CHECKOUT --build BUILD_DIR [--cases DIR]\n"
                   "              [--json FILE] [--filter REGEX] [--keep] [--no-stack-checks] [-v]\n"
                   "--no-stack-checks: check exit codes, messages and crashes only, not that nothing\n"
                   "changed on the stack (for a run beside other tests, such as the sanitizer pass)\n";
      std::exit(0);
    } else
      Die("unknown option " + a);
  }
  if (o.bin.empty() || o.root.empty() || o.build.empty()) Die("--bin, --root and --build are required");
  o.bin = fs::absolute(o.bin).string();
  o.root = fs::absolute(o.root).string();
  o.build = fs::absolute(o.build).string();
  if (o.cases_dir.empty()) o.cases_dir = o.root + "/tests/corpus/cases";
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = ParseOptions(argc, argv);
  auto started = Clock::now();
  auto stack = ReadEnvFile(opt.root + "/var/stack.env");
  std::string admin_url = stack["MATIH_PG_ADMIN_URL"];
  std::string server = admin_url.substr(0, admin_url.rfind('/'));
  const std::string db_name = "matih_corpus";
  const std::string db_url = server + "/" + db_name;

  // --- the cases
  std::vector<Case> cases;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(opt.cases_dir))
    if (e.path().extension() == ".cases") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::set<std::string> names;
  for (const auto& f : files)
    for (auto& c : ParseCases(f.string())) {
      if (!names.insert(c.name).second) Die(c.source + ": duplicate case name " + c.name);
      if (!opt.filter.empty() && !std::regex_search(c.name, std::regex(opt.filter))) continue;
      cases.push_back(std::move(c));
    }

  // --- the fixture folder
  std::string templ = (fs::temp_directory_path() / "matih-corpus-XXXXXX").string();
  if (!mkdtemp(templ.data())) Die("mkdtemp failed");
  const std::string work = templ, fixed = work + "/fixed", plugins = fixed + "/plugins",
                    state_dir = work + "/state";
  fs::create_directories(plugins);
  fs::create_directories(state_dir);
  fs::create_directories(work + "/cases");
  for (const char* so : {"/plugins/matih-validation.so", "/plugins/matih-control-plane.so",
                         "/test-plugins/steps/matih-test-steps.so"}) {
    fs::path p = opt.build + so;
    if (!fs::exists(p)) Die("missing " + p.string() + " (build it first)");
    fs::copy_file(p, plugins + "/" + p.filename().string());
  }
  auto secret = [](const std::string& path, const std::string& content) {
    WriteFile(path, content);
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  };
  secret(fixed + "/secret.key", "5be1c0a2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e\n");
  secret(fixed + "/hash.key", "corpus-hash-key-0123456789abcdef0123456789abcdef\n");
  const std::string steps_yaml =
      "steps:\n"
      "  - {number: 1, name: validate-request, phase: 0, kind: tenant.validate,\n"
      "     tiers: [free, starter, professional, enterprise]}\n"
      "  - {number: 2, name: check-quotas, phase: 0, kind: tenant.quota, tiers: [free, starter, "
      "professional, enterprise],\n"
      "     params: {placement: {free: shared, starter: shared, professional: dedicated, enterprise: "
      "dedicated}}}\n"
      "  - {number: 3, name: create-tenant-record, phase: 1, kind: controlplane.tenant,\n"
      "     tiers: [free, starter, professional, enterprise]}\n"
      "  - {number: 4, name: create-admin-user, phase: 1, kind: controlplane.admin_user,\n"
      "     tiers: [free, starter, professional, enterprise]}\n"
      "  - {number: 5, name: cluster, phase: 7, kind: test.file, tiers: [professional, enterprise],\n"
      "     params: {value: ok}}\n"
      "  - {number: 6, name: activate-tenant, phase: 8, kind: test.file,\n"
      "     tiers: [free, starter, professional, enterprise], params: {value: @V@}}\n";
  const std::string catalog_head =
      "version: 1\n"
      "phases: {0: validation, 1: control-plane, 7: cloud-infrastructure, 8: finalization}\n"
      "flows:\n"
      "  free:         {placement: shared,    phases: [0, 1, 8]}\n"
      "  starter:      {placement: shared,    phases: [0, 1, 8]}\n"
      "  professional: {placement: dedicated, phases: [0, 1, 7, 8]}\n"
      "  enterprise:   {placement: dedicated, phases: [0, 1, 7, 8]}\n"
      "defaults:\n"
      "  retry: {attempts: 1, initial_backoff: 10ms, max_backoff: 10ms}\n"
      "  timeout: 10s\n";
  auto catalog_with = [&](const std::string& value) {
    std::string s = steps_yaml;
    s.replace(s.find("@V@"), 3, value);
    return catalog_head + s;
  };
  const std::string catalog = catalog_with("ok");
  WriteFile(fixed + "/catalog.yaml", catalog);
  WriteFile(work + "/failing-catalog.yaml", catalog_with("ok, fail: permanent"));
  // The config, section by section: a case can compose its own from these (${CONFIG_DB}, ...).
  const std::map<std::string, std::string> sections = {
      {"CONFIG_DB", "[database]\nurl = " + db_url + "\n\n"},
      {"CONFIG_PLUGINS", "[plugins]\ndir = " + plugins + "\n\n"},
      {"CONFIG_CATALOG", "[catalog]\nfile = " + fixed + "/catalog.yaml\n\n"},
      {"CONFIG_SECRETS", "[secrets]\nkey_file = " + fixed + "/secret.key\n\n"},
      {"CONFIG_TENANTS", "[tenants]\nregions = eu-west,us-east\ndefault_region = eu-west\n\n"},
      {"CONFIG_TARGETS", "[targets]\ntenant.regions = eu-west,us-east\ntenant.service_catalog = " + opt.root +
                             "/config/service-catalog.yaml\ncontrolplane.database_url = " + db_url +
                             "\ncontrolplane.hash_key_file = " + fixed +
                             "/hash.key\ntest.state_dir = " + state_dir + "\n\n"},
  };
  std::string base_config;
  for (const char* name : {"CONFIG_DB", "CONFIG_PLUGINS", "CONFIG_CATALOG", "CONFIG_SECRETS",
                           "CONFIG_TENANTS", "CONFIG_TARGETS"})
    base_config += sections.at(name);
  WriteFile(fixed + "/runner.conf", base_config);
  const std::string config = fixed + "/runner.conf";

  std::map<std::string, std::string> vars = {
      {"ROOT", opt.root},
      {"WORK", work},
      {"DB", db_url},
      {"ADMIN_DB", admin_url},
      {"CONFIG", config},
      {"CATALOG", fixed + "/catalog.yaml"},
      {"KEY", fixed + "/secret.key"},
      {"HASHKEY", fixed + "/hash.key"},
      {"PLUGINS", plugins},
      {"STATE", state_dir},
      {"SERVICE_CATALOG", opt.root + "/config/service-catalog.yaml"},
      {"BASECONFIG", base_config},
      {"BASECATALOG", catalog},
      {"CATALOG_HEAD", catalog_head},
      {"TESTPLUGINS", opt.build + "/test-plugins"},
      {"BIN", opt.bin},
  };
  for (const auto& [k, v] : stack) vars["STACK_" + k] = v;
  vars.insert(sections.begin(), sections.end());

  std::vector<std::string> base_env = {
      "PATH=" + std::string(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin"), "HOME=" + work,
      "LANG=C.UTF-8", "TZ=UTC"};
  for (const char* keep : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"})
    if (const char* v = getenv(keep)) base_env.push_back(std::string(keep) + "=" + v);

  // --- the database and the fixture tenants
  auto must = [&](const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {}) {
    std::vector<std::string> env = base_env;
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    Result r = Run(args, env, work, "", work);
    if (r.exit_code != 0) {
      std::string cmd;
      for (const auto& a : args) cmd += a + " ";
      Die("setup failed: " + cmd + "-> " + std::to_string(r.exit_code) + "\n" + r.err + r.out);
    }
    return r;
  };
  must({"psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", admin_url, "-c", "DROP DATABASE IF EXISTS " + db_name,
        "-c", "CREATE DATABASE " + db_name});
  auto cli = [&](std::vector<std::string> args, const std::vector<std::string>& extra_env = {}) {
    args.insert(args.begin(), {opt.bin, "--config", config});
    return must(args, extra_env);
  };
  cli({"migrate"});
  auto add = [&](const std::string& slug, const std::string& tier) {
    cli({"tenants", "add", "--slug", slug, "--tier", tier, "--admin-email", "admin@" + slug + ".example"});
  };
  for (const char* slug : {"act1", "act2", "susp1", "pdel1"}) add(slug, "free");
  add("act3", "starter");
  add("gone1", "free");
  cli({"cancel", "gone1"});
  cli({"run", "--pending-only", "--limit", "10"});
  cli({"suspend", "susp1"});
  cli({"delete", "pdel1", "--grace", "30d"});
  add("fail1", "free");
  add("rb1", "free");
  {
    std::vector<std::string> env = base_env;
    env.push_back("MATIH_RUN_FAILURE_POLICY=park");
    Run({opt.bin, "--config", config, "--catalog", work + "/failing-catalog.yaml", "run", "--tenant",
         "fail1"},
        env, work, "", work);
    env.back() = "MATIH_RUN_FAILURE_POLICY=rollback";
    Run({opt.bin, "--config", config, "--catalog", work + "/failing-catalog.yaml", "run", "--tenant", "rb1"},
        env, work, "", work);
  }
  add("pend1", "free");  // stays PENDING
  {
    Result r = Run({"psql", "-XAtq", "-d", db_url, "-c",
                    "SELECT string_agg(slug || '=' || status, ' ' ORDER BY slug) FROM matih.tenants"},
                   base_env, work, "", work);
    std::string want =
        "act1=ACTIVE act2=ACTIVE act3=ACTIVE fail1=FAILED gone1=DELETED pdel1=PENDING_DELETION "
        "pend1=PENDING rb1=ROLLED_BACK susp1=SUSPENDED";
    if (Trim(r.out) != want)
      Die("fixture tenants are not in their states:\n  have " + Trim(r.out) + "\n  want " + want);
  }

  // --- state before: everything, in full
  std::vector<std::string> state_env = base_env;
  for (const auto& [k, v] : stack) state_env.push_back(k + "=" + v);
  state_env.push_back("MATIH_CORPUS_FILE_DIRS=" + fixed + " " + state_dir);
  const std::string script = opt.root + "/tests/corpus/stack_state.sh";
  State full_before = opt.watch_stack ? TakeState(script, state_env, work) : State{};
  // Per case: every database of both servers and the fixture's files (in-process, milliseconds).
  // Per group of kGroup cases: the other servers (stack_state.sh without PostgreSQL), so a change
  // there is named with the cases of its group.
  const size_t kGroup = 20;
  std::vector<std::string> group_env = state_env;
  group_env.push_back("MATIH_STATE_NO_PG=1");
  std::vector<std::string> watched_dirs = {fixed, state_dir};
  std::vector<std::string> servers = {admin_url};
  if (!stack["MATIH_PG_DEDICATED_ADMIN_URL"].empty())
    servers.push_back(stack["MATIH_PG_DEDICATED_ADMIN_URL"]);
  DatabaseWatch databases(servers);
  auto quick = [&] {
    State s;
    if (!opt.watch_stack) return s;
    databases.Take(s);
    TakeFiles(watched_dirs, s);
    return s;
  };
  State before = quick();
  State group_before = opt.watch_stack ? TakeState(script, group_env, work) : State{};
  std::vector<std::string> group_names;
  double run_seconds = 0, quick_seconds = 0, group_seconds = 0;
  auto setup_seconds = std::chrono::duration<double>(Clock::now() - started).count();

  struct Outcome {
    std::string name, kind, detail;
  };
  std::vector<Outcome> problems;
  int clear = 0, unclear = 0, wrong = 0, crashes = 0, changes = 0, xfails = 0, xpasses = 0;
  const std::regex crash_re(
      "terminate called|AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|std::bad_alloc|"
      "stack smashing");
  for (const auto& c : cases) {
    std::string case_dir = work + "/cases/" + c.name;
    fs::create_directories(case_dir);
    for (const auto& f : c.files) {
      std::string path = case_dir + "/" + f.name;
      fs::create_directories(fs::path(path).parent_path());
      if (f.kind == SideFile::kDir)
        fs::create_directories(path);
      else if (f.kind == SideFile::kPluginDir) {  // a plugin folder holding copies of the good plugins
        fs::create_directories(path);
        for (const auto& e : fs::directory_iterator(plugins))
          fs::copy_file(e.path(), path + "/" + e.path().filename().string());
      } else if (f.kind == SideFile::kCopy) {
        std::string data = ReadFile(Substitute(f.content, vars, case_dir, c.source));
        if (data.empty()) Die(c.source + ": nothing to copy from " + f.content);
        WriteFile(path, f.bytes >= 0 ? data.substr(0, f.bytes) : data);
      } else if (f.kind == SideFile::kSymlink)
        fs::create_symlink(Substitute(f.content, vars, case_dir, c.source), path);
      else
        WriteFile(path, Substitute(f.content, vars, case_dir, c.source));
      if (f.mode) fs::permissions(path, static_cast<fs::perms>(*f.mode), fs::perm_options::replace);
    }
    std::string stdin_file;
    if (c.stdin_text)
      WriteFile(stdin_file = case_dir + "/.stdin", Substitute(*c.stdin_text, vars, case_dir, c.source));
    std::vector<std::string> args = Words(Substitute(c.args, vars, case_dir, c.source));
    bool has_config = false;
    for (const auto& a : args) has_config |= a == "--config";
    args.insert(args.begin(), opt.bin);
    if (!has_config && !c.noconfig) args.insert(args.begin() + 1, {"--config", config});
    std::vector<std::string> env = base_env;
    for (const auto& e : c.env) env.push_back(Substitute(e, vars, case_dir, c.source));

    auto t0 = Clock::now();
    Result r = Run(args, env, case_dir, stdin_file, case_dir);
    auto t1 = Clock::now();
    State after = quick();
    auto t2 = Clock::now();
    run_seconds += std::chrono::duration<double>(t1 - t0).count();
    quick_seconds += std::chrono::duration<double>(t2 - t1).count();
    std::vector<std::string> changed = Diff(before, after);
    before = after;
    if (opt.watch_stack) group_names.push_back(c.name);
    if (opt.watch_stack && (group_names.size() == kGroup || &c == &cases.back())) {
      auto g0 = Clock::now();
      State group_after = TakeState(script, group_env, work);
      group_seconds += std::chrono::duration<double>(Clock::now() - g0).count();
      std::vector<std::string> group_changed = Diff(group_before, group_after);
      group_before = group_after;
      if (!group_changed.empty()) {
        ++changes;
        std::string d = "one of these cases changed ";
        for (const auto& k : group_changed) d += k + " ";
        d += "; cases:";
        for (const auto& n : group_names) d += " " + n;
        problems.push_back({"(group ending " + c.name + ")", "change", d});
      }
      group_names.clear();
    }

    bool crashed = r.timed_out || r.signal != 0 || std::regex_search(r.err, crash_re);
    bool code_ok = !crashed && r.exit_code == c.expect_code;
    bool msg_ok =
        std::regex_search(r.err, std::regex(c.expect_regex, std::regex::ECMAScript | std::regex::icase));
    std::string kind;
    std::string detail;
    if (crashed) {
      kind = "crash";
      detail = r.timed_out ? "timed out (killed)"
               : r.signal  ? "signal " + std::to_string(r.signal)
                           : "crash text";
    } else if (!changed.empty()) {
      kind = "change";
      for (const auto& k : changed) detail += k + " ";
    } else if (!code_ok) {
      kind = "wrong-code";
      detail = "exit " + std::to_string(r.exit_code) + ", want " + std::to_string(c.expect_code);
    } else if (!msg_ok) {
      kind = "unclear";
      detail = "stderr does not match /" + c.expect_regex + "/";
    }
    if (!kind.empty() && !changed.empty() && kind != "change") {
      detail += "; changed: ";
      for (const auto& k : changed) detail += k + " ";
    }
    detail += (detail.empty() ? "" : "; ") + std::string("stderr: ") + Clip(r.err);
    if (!c.xfail.empty()) {
      if (kind.empty()) {
        ++xpasses;
        problems.push_back({c.name, "xpass", "passes now: remove its xfail (" + c.xfail + ")"});
        ++clear;
      } else {
        ++xfails;
        problems.push_back({c.name, "xfail:" + kind, c.xfail + " -- " + detail});
      }
    } else if (kind.empty()) {
      ++clear;
    } else {
      if (kind == "crash") ++crashes;
      if (kind == "change") ++changes;
      if (kind == "wrong-code") ++wrong;
      if (kind == "unclear") ++unclear;
      if (kind != "change" && !changed.empty()) ++changes;
      problems.push_back({c.name, kind, detail});
    }
    if (opt.verbose)
      std::cerr << (kind.empty() ? "ok   " : kind) << " " << c.name << " (" << r.exit_code << ") "
                << Clip(r.err, 160) << "\n";
  }

  // --- state after: everything, in full, compared with the start
  State full_after = opt.watch_stack ? TakeState(script, state_env, work) : State{};
  std::vector<std::string> run_changes = Diff(full_before, full_after);
  if (!run_changes.empty()) {
    ++changes;
    std::string d;
    for (const auto& k : run_changes) d += k + " ";
    problems.push_back({"(whole run)", "change", "full state differs from the start: " + d});
  }
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();

  for (const auto& p : problems) std::cerr << p.kind << " " << p.name << ": " << p.detail << "\n";
  std::printf("%-14s %6s\n", "cases", std::to_string(cases.size()).c_str());
  std::printf("%-14s %6d\n", "clear errors", clear);
  std::printf("%-14s %6d\n", "unclear", unclear);
  std::printf("%-14s %6d\n", "wrong codes", wrong);
  std::printf("%-14s %6d\n", "crashes", crashes);
  std::printf("%-14s %6d\n", "changes", changes);
  std::printf("%-14s %6d\n", "expected fail", xfails);
  std::printf("%-14s %6d\n", "xpass", xpasses);
  std::printf("%-14s %6.1f (setup %.1f, provisioner %.1f, per-case checks %.1f, per-group checks %.1f)\n",
              "seconds", seconds, setup_seconds, run_seconds, quick_seconds, group_seconds);
  if (!opt.json_path.empty()) {
    std::ostringstream j;
    j << "{\"cases\": " << cases.size() << ", \"clear_errors\": " << clear << ", \"unclear\": " << unclear
      << ", \"wrong_codes\": " << wrong << ", \"crashes\": " << crashes << ", \"changes\": " << changes
      << ", \"expected_fail\": " << xfails << ", \"xpass\": " << xpasses << ", \"seconds\": " << seconds
      << ", \"problems\": [";
    for (size_t i = 0; i < problems.size(); ++i)
      j << (i ? ", " : "") << "{\"case\": " << JsonString(problems[i].name)
        << ", \"kind\": " << JsonString(problems[i].kind)
        << ", \"detail\": " << JsonString(problems[i].detail) << "}";
    j << "]}\n";
    WriteFile(opt.json_path, j.str());
  }
  if (!opt.keep) {
    Run({"psql", "-XAtq", "-d", admin_url, "-c", "DROP DATABASE IF EXISTS " + db_name}, base_env, work, "",
        work);
    std::error_code ec;
    for (auto& e : fs::recursive_directory_iterator(work, fs::directory_options::skip_permission_denied, ec))
      fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add | fs::perm_options::nofollow, ec);
    fs::remove_all(work, ec);
  } else {
    std::cerr << "corpus: kept " << work << " and database " << db_name << "\n";
  }
  return crashes + changes + wrong + unclear == 0 ? 0 : 1;
}
