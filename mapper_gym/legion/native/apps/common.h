/*
 * Helpers shared by the Legion applications of mapper-gym.
 *
 * Every application registers its tasks under the exact names the application models in
 * benchmarks/ use (the mapping plan refers to tasks by name), builds its regions and partitions
 * in its top-level task, and prints the real program's output lines. Timing windows are taken
 * inside task bodies with one monotonic clock (one process, so all processors share it).
 */
#ifndef MAPPER_GYM_APPS_COMMON_H
#define MAPPER_GYM_APPS_COMMON_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "legion.h"

namespace mapper_gym {
namespace apps {

/* Nanoseconds on Realm's clock: one clock for the whole process, and the one Realm's task
 * timelines use, so the measured window and the per-task profiles line up. */
inline int64_t now_ns() { return Realm::Clock::current_time_in_nanoseconds(); }

/* Fails the run the way a C assert in the original kernels does: the message on stderr, then
 * SIGABRT. */
[[noreturn]] inline void assertion_failed(const char* message) {
  std::fflush(stdout);
  std::fprintf(stderr, "Assertion failed: %s\n", message);
  std::fflush(stderr);
  std::abort();
}

/* The precise measured window, for the Python side (the program's own lines are rounded to
 * milliseconds). */
inline void report_timing(double init_seconds, double elapsed_seconds, int64_t window_start,
                          int64_t window_stop) {
  std::fprintf(stderr, "MAPGYM timing init=%.9f elapsed=%.9f window=%lld,%lld\n", init_seconds,
               elapsed_seconds, static_cast<long long>(window_start),
               static_cast<long long>(window_stop));
  std::fflush(stderr);
}

/* Integer options of the form "-name value" from the program's command line. */
class Options {
 public:
  Options() {
    const Legion::InputArgs& args = Legion::Runtime::get_input_args();
    for (int i = 1; i + 1 < args.argc; i++)
      if (args.argv[i][0] == '-') values_[args.argv[i] + 1] = args.argv[i + 1];
  }
  long long integer(const char* name, long long fallback) const {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    char* end = nullptr;
    long long value = std::strtoll(it->second.c_str(), &end, 10);
    if (end == it->second.c_str() || *end != '\0') {
      std::fprintf(stderr, "invalid value '%s' for -%s\n", it->second.c_str(), name);
      std::exit(2);
    }
    return value;
  }

 private:
  std::map<std::string, std::string> values_;
};

/* The launch-group number the mapping plan uses to tell launches of one task apart; groups
 * above 0 travel as the launch's mapper argument. */
inline Legion::UntypedBuffer launch_group(const int& group) {
  return group == 0 ? Legion::UntypedBuffer() : Legion::UntypedBuffer(&group, sizeof(int));
}

/* Task registration shared by the applications: every leaf task has one CPU variant (the only
 * processors this host's Legion has), and the top-level task is an inner, replicable CPU task. */
template <typename T, T (*TASK)(const Legion::Task*, const std::vector<Legion::PhysicalRegion>&,
                                Legion::Context, Legion::Runtime*)>
void leaf_with_result(Legion::TaskID id, const char* name) {
  Legion::TaskVariantRegistrar registrar(id, name);
  registrar.add_constraint(Legion::ProcessorConstraint(Legion::Processor::LOC_PROC));
  registrar.set_leaf();
  Legion::Runtime::preregister_task_variant<T, TASK>(registrar, name);
}

template <void (*TASK)(const Legion::Task*, const std::vector<Legion::PhysicalRegion>&,
                       Legion::Context, Legion::Runtime*)>
void leaf(Legion::TaskID id, const char* name) {
  Legion::TaskVariantRegistrar registrar(id, name);
  registrar.add_constraint(Legion::ProcessorConstraint(Legion::Processor::LOC_PROC));
  registrar.set_leaf();
  Legion::Runtime::preregister_task_variant<TASK>(registrar, name);
}

template <void (*TASK)(const Legion::Task*, const std::vector<Legion::PhysicalRegion>&,
                       Legion::Context, Legion::Runtime*)>
void top_level(Legion::TaskID id, const char* name) {
  Legion::TaskVariantRegistrar registrar(id, name);
  registrar.add_constraint(Legion::ProcessorConstraint(Legion::Processor::LOC_PROC));
  registrar.set_inner();
  registrar.set_replicable();
  Legion::Runtime::preregister_task_variant<TASK>(registrar, name);
  Legion::Runtime::set_top_level_task_id(id);
}

/* A partition of `region` by explicit domains (intersections computed), with the partition and
 * its logical partition both named `name`. */
inline Legion::LogicalPartition by_domain(
    Legion::Context ctx, Legion::Runtime* runtime, Legion::LogicalRegion region,
    Legion::IndexSpace colors, const std::map<Legion::DomainPoint, Legion::Domain>& domains,
    Legion::PartitionKind kind, const char* name) {
  Legion::IndexPartition ip = runtime->create_partition_by_domain(
      ctx, region.get_index_space(), domains, colors, true /*intersections*/, kind);
  runtime->attach_name(ip, name);
  Legion::LogicalPartition lp = runtime->get_logical_partition(ctx, region, ip);
  runtime->attach_name(lp, name);
  return lp;
}

/* A field space with the given (field id, (size, name)) fields. */
inline Legion::FieldSpace field_space(
    Legion::Context ctx, Legion::Runtime* runtime,
    const std::vector<std::pair<Legion::FieldID, std::pair<size_t, std::string>>>& fields) {
  Legion::FieldSpace fs = runtime->create_field_space(ctx);
  Legion::FieldAllocator allocator = runtime->create_field_allocator(ctx, fs);
  for (const auto& field : fields) {
    allocator.allocate_field(field.second.first, field.first);
    runtime->attach_name(fs, field.first, field.second.second.c_str());
  }
  return fs;
}

/* An application: its name on the command line and the function that registers its tasks and
 * sets its top-level task. */
struct App {
  const char* name;
  void (*register_tasks)();
};

void register_stencil();
void register_circuit();
void register_pennant();
void register_cannon();  // distal_2d.cc
void register_summa();
void register_pumma();
void register_johnson();  // distal_3d.cc
void register_cosma();
void register_solomonik();

}  // namespace apps
}  // namespace mapper_gym

#endif
