/*
 * The lowered mapping plan the DSL mapper applies (written by mapper_gym/legion/lower.py).
 *
 * The C++ side never sees DSL text: every decision of dsl.md §6 was taken by the Python
 * resolver, and this file format carries exactly those decisions. Format (one record per
 * line, fields separated by single spaces, names never contain spaces):
 *
 *   mapper-gym-plan 1
 *   task <name> <KIND> <instance-limit, 0 = none>
 *   launch <task> <group> index <dsl|default> <ndims> <extent>...
 *   launch <task> <group> single
 *   point <c0,c1,...|-> <targets: node:index;node:index... | ->
 *   req <index> <NONE|VIRTUAL|DEFAULT|memory kind> <SOA|AOS> <C|F> <op|-> <bytes>
 *       <compact 0|1> <exact 0|1> <collect 0|1>
 *   end
 *
 * A `point` line belongs to the last `launch` line and its `req` lines to the last `point`.
 * `group` tells launches of one task apart (the application passes it as the launch's mapper
 * argument; 0 when a task has one launch). Targets `-` mean "where the DefaultMapper sliced the
 * point"; memory `DEFAULT` means the DefaultMapper's memory choice.
 */
#ifndef MAPPER_GYM_PLAN_H
#define MAPPER_GYM_PLAN_H

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mapper_gym {

struct ProcRef {
  int node = 0;
  int index = 0;
};

enum class MemChoice { NONE, VIRTUAL, DEFAULT, KIND };

struct InstancePlan {
  MemChoice choice = MemChoice::NONE;
  std::string memory_kind;  // DSL name (SYSMEM, FBMEM, ...) when choice == KIND
  bool aos = false;
  bool c_order = false;
  std::string align_op;  // "", "==", "!=", "<", "<=", ">", ">="
  long long align_bytes = 0;
  bool compact = false;
  bool exact = false;
  bool collect = false;
};

struct PointPlan {
  std::vector<long long> point;   // empty for a single launch
  std::vector<ProcRef> targets;   // empty: where the DefaultMapper sliced the point
  std::vector<InstancePlan> requirements;
};

struct LaunchPlan {
  std::string task;
  int group = 0;
  bool index = false;
  bool dsl_placed = false;  // an IndexTaskMap function placed the points
  std::vector<long long> extents;
  std::map<std::vector<long long>, PointPlan> points;  // key: coordinates ({} for single)
};

struct TaskPlan {
  std::string kind;  // DSL processor kind
  int instance_limit = 0;
};

struct Plan {
  std::map<std::string, TaskPlan> tasks;
  std::map<std::pair<std::string, int>, LaunchPlan> launches;

  const TaskPlan* task(const std::string& name) const;
  const LaunchPlan* launch(const std::string& name, int group) const;
};

/* Parses a plan file; on failure returns false and sets `error`. */
bool load_plan(const std::string& path, Plan& plan, std::string& error);

}  // namespace mapper_gym

#endif
