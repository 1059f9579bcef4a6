// Fuzzes the plugin file check (runner/plugin_host/plugin_file.cc) with arbitrary file contents:
// CheckElf either refuses with InvalidArgument naming the file, or accepts a file whose ELF header
// and every loadable segment really lie inside it (checked here independently), so the loader is
// never handed a truncated library. Sha256 of the same descriptor always succeeds.
#include <elf.h>

#include <cstring>
#include <string>

#include "fuzz_support.h"
#include "plugin_host/plugin_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using matih::fuzz::Require;
  static matih::fuzz::MemFile file("matih-plugin.so");
  file.Write(data, size);
  auto opened = matih::runner::PluginFile::Open(file.path());
  Require(opened.ok(), "cannot open the in-memory plugin file");
  auto sha = opened->Sha256();
  Require(sha.ok() && sha->size() == 64, "Sha256 failed");
  matih::runner::Status s = opened->CheckElf();
  if (!s.ok()) {
    Require(s.code() == matih::runner::Code::kInvalidArgument, "refusal is not InvalidArgument");
    Require(s.message().find(file.path()) != std::string::npos, "refusal does not name the file");
    return 0;
  }
  Require(size >= sizeof(Elf64_Ehdr), "accepted a file shorter than an ELF header");
  Elf64_Ehdr eh;
  std::memcpy(&eh, data, sizeof eh);
  Require(eh.e_type == ET_DYN && eh.e_phnum > 0, "accepted a file that is not a shared object");
  Require(eh.e_phoff <= size && eh.e_phnum <= (size - eh.e_phoff) / sizeof(Elf64_Phdr),
          "accepted program headers outside the file");
  for (size_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, data + eh.e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type == PT_LOAD)
      Require(ph.p_offset <= size && ph.p_filesz <= size - ph.p_offset, "accepted a segment past the end");
  }
  return 0;
}
