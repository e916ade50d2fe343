/* Reader of the lowered plan format described in plan.h. Kept free of Legion headers so that
 * it compiles in a fraction of a second. */
#include "plan.h"

#include <fstream>
#include <sstream>

namespace mapper_gym {

const TaskPlan* Plan::task(const std::string& name) const {
  auto it = tasks.find(name);
  return it == tasks.end() ? nullptr : &it->second;
}

const LaunchPlan* Plan::launch(const std::string& name, int group) const {
  auto it = launches.find({name, group});
  return it == launches.end() ? nullptr : &it->second;
}

namespace {

bool parse_coords(const std::string& text, std::vector<long long>& out) {
  out.clear();
  if (text == "-") return true;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      out.push_back(std::stoll(item, &used));
      if (used != item.size()) return false;
    } catch (...) {
      return false;
    }
  }
  return !out.empty();
}

bool parse_targets(const std::string& text, std::vector<ProcRef>& out) {
  out.clear();
  if (text == "-") return true;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ';')) {
    size_t colon = item.find(':');
    if (colon == std::string::npos) return false;
    try {
      ProcRef ref;
      ref.node = std::stoi(item.substr(0, colon));
      ref.index = std::stoi(item.substr(colon + 1));
      out.push_back(ref);
    } catch (...) {
      return false;
    }
  }
  return !out.empty();
}

bool parse_flag(const std::string& text, bool& out) {
  if (text == "0") { out = false; return true; }
  if (text == "1") { out = true; return true; }
  return false;
}

}  // namespace

bool load_plan(const std::string& path, Plan& plan, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot open " + path;
    return false;
  }
  std::string line;
  int number = 0;
  LaunchPlan* launch = nullptr;
  PointPlan* point = nullptr;
  bool header = false, ended = false;
  auto fail = [&](const std::string& why) {
    error = path + ":" + std::to_string(number) + ": " + why;
    return false;
  };
  while (std::getline(in, line)) {
    number++;
    if (line.empty()) continue;
    std::istringstream ss(line);
    std::string word;
    ss >> word;
    if (!header) {
      int version = 0;
      if (word != "mapper-gym-plan" || !(ss >> version) || version != 1)
        return fail("not a mapper-gym plan (version 1)");
      header = true;
      continue;
    }
    if (word == "task") {
      std::string name;
      TaskPlan task;
      if (!(ss >> name >> task.kind >> task.instance_limit)) return fail("bad task line");
      plan.tasks[name] = task;
    } else if (word == "launch") {
      LaunchPlan lp;
      std::string how;
      if (!(ss >> lp.task >> lp.group >> how)) return fail("bad launch line");
      if (how == "index") {
        std::string placed;
        int dims = 0;
        if (!(ss >> placed >> dims) || (placed != "dsl" && placed != "default") || dims < 1)
          return fail("bad index launch line");
        lp.index = true;
        lp.dsl_placed = placed == "dsl";
        for (int d = 0; d < dims; d++) {
          long long extent = 0;
          if (!(ss >> extent)) return fail("missing launch extent");
          lp.extents.push_back(extent);
        }
      } else if (how != "single") {
        return fail("launch must be index or single");
      }
      auto key = std::make_pair(lp.task, lp.group);
      plan.launches[key] = lp;
      launch = &plan.launches[key];
      point = nullptr;
    } else if (word == "point") {
      if (launch == nullptr) return fail("point outside a launch");
      std::string coords, targets;
      if (!(ss >> coords >> targets)) return fail("bad point line");
      PointPlan pp;
      if (!parse_coords(coords, pp.point)) return fail("bad point coordinates");
      if (!parse_targets(targets, pp.targets)) return fail("bad point targets");
      if (launch->index != !pp.point.empty()) return fail("point does not fit its launch");
      launch->points[pp.point] = pp;
      point = &launch->points[pp.point];
    } else if (word == "req") {
      if (point == nullptr) return fail("req outside a point");
      unsigned index = 0;
      std::string mem, soa, order, op, compact, exact, collect;
      InstancePlan ip;
      if (!(ss >> index >> mem >> soa >> order >> op >> ip.align_bytes >> compact >> exact >>
            collect))
        return fail("bad req line");
      if (mem == "NONE") ip.choice = MemChoice::NONE;
      else if (mem == "VIRTUAL") ip.choice = MemChoice::VIRTUAL;
      else if (mem == "DEFAULT") ip.choice = MemChoice::DEFAULT;
      else { ip.choice = MemChoice::KIND; ip.memory_kind = mem; }
      if (soa != "SOA" && soa != "AOS") return fail("layout must be SOA or AOS");
      if (order != "C" && order != "F") return fail("order must be C or F");
      ip.aos = soa == "AOS";
      ip.c_order = order == "C";
      ip.align_op = op == "-" ? "" : op;
      if (!parse_flag(compact, ip.compact) || !parse_flag(exact, ip.exact) ||
          !parse_flag(collect, ip.collect))
        return fail("flags must be 0 or 1");
      if (index != point->requirements.size()) return fail("requirements out of order");
      point->requirements.push_back(ip);
    } else if (word == "end") {
      ended = true;
      break;
    } else {
      return fail("unknown record '" + word + "'");
    }
  }
  if (!header) return fail("empty plan");
  if (!ended) return fail("plan is truncated (no end line)");
  return true;
}

}  // namespace mapper_gym
