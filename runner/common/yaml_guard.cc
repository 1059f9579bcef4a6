#include "common/yaml_guard.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

namespace matih::runner {
namespace {

struct Refusal {
  YAML::Mark mark;
  std::string what;
};

// Walks the events with a stack of open collections; for a mapping it tracks whether the next
// node is a key, and the scalar keys seen so far. Every anchored node's expanded size and height
// are kept, so an alias counts as the nodes it stands for: a bomb of nested aliases hits the node
// limit after reading a few lines, and an alias to a node still open (recursion) is refused.
class Guard : public YAML::EventHandler {
 public:
  explicit Guard(const YamlLimits& limits) : limits_(limits) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { Leaf(mark, anchor, nullptr); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw Refusal{mark, "an alias refers to a node that contains it (recursion)"};
    Count(mark, it->second.size);
    if (stack_.size() + it->second.height > limits_.max_depth)
      throw Refusal{mark,
                    "nested deeper than " + std::to_string(limits_.max_depth) + " levels (through an alias)"};
    Child(it->second.height);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    Leaf(mark, anchor, &value);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, anchor, false);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, anchor, true);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    bool is_map = false;
    bool expect_key = true;
    std::set<std::string> keys;
    YAML::anchor_t anchor = 0;
    size_t nodes_at_open = 0;  // nodes_ when it opened, itself included
    size_t height = 0;         // levels below it so far
  };
  struct Anchored {
    size_t size = 1;
    size_t height = 0;
  };

  void Count(const YAML::Mark& mark, size_t n) {
    nodes_ += n;
    if (nodes_ > limits_.max_nodes)
      throw Refusal{mark, "more than " + std::to_string(limits_.max_nodes) + " nodes (aliases expanded)"};
  }
  // A scalar or null: a key of the enclosing mapping, or a value.
  void Leaf(const YAML::Mark& mark, YAML::anchor_t anchor, const std::string* scalar) {
    Count(mark, 1);
    if (!stack_.empty() && stack_.back().is_map && stack_.back().expect_key && scalar &&
        !stack_.back().keys.insert(*scalar).second)
      throw Refusal{mark, "key '" + *scalar + "' appears twice in one mapping"};
    if (anchor) anchors_[anchor] = Anchored{1, 0};
    Child(0);
  }
  void Open(const YAML::Mark& mark, YAML::anchor_t anchor, bool is_map) {
    Count(mark, 1);
    if (stack_.size() >= limits_.max_depth)
      throw Refusal{mark, "nested deeper than " + std::to_string(limits_.max_depth) + " levels"};
    if (anchor) anchors_.erase(anchor);  // a redefined anchor is unknown until its node closes
    Frame frame;
    frame.is_map = is_map;
    frame.anchor = anchor;
    frame.nodes_at_open = nodes_;
    stack_.push_back(std::move(frame));
  }
  void Close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    if (frame.anchor) anchors_[frame.anchor] = Anchored{nodes_ - frame.nodes_at_open + 1, frame.height + 1};
    Child(frame.height + 1);
  }
  // A node of `height` levels completed inside the enclosing collection; in a mapping, keys and
  // values alternate.
  void Child(size_t height) {
    if (stack_.empty()) return;
    Frame& parent = stack_.back();
    parent.height = std::max(parent.height, height);
    if (parent.is_map) parent.expect_key = !parent.expect_key;
  }

  const YamlLimits& limits_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  size_t nodes_ = 0;
};

}  // namespace

Status CheckYaml(const std::string& text, const std::string& origin, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes)
    return InvalidArgument(origin + ": " + std::to_string(text.size()) + " bytes; the limit is " +
                           std::to_string(limits.max_bytes));
  std::istringstream in(text);
  Guard guard(limits);
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(guard)) {
    }
  } catch (const Refusal& r) {
    return InvalidArgument(origin + ": line " + std::to_string(r.mark.line + 1) + ": " + r.what);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(origin + ": not valid YAML: " + e.what());
  }
  return Status::Ok();
}

}  // namespace matih::runner
