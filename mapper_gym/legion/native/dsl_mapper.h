/*
 * The DSL mapper: a DefaultMapper that applies a lowered mapping plan (plan.h).
 *
 * Every decision a mapping program makes was resolved in Python (mapper_gym.mapping); this
 * mapper only applies it, and leaves to the DefaultMapper exactly what the plan leaves open:
 *
 *   processor kind     the plan's kind for the task name (variants of that kind)
 *   index launches     IndexTaskMap-placed: one slice per point, sent to the planned
 *                      processor; otherwise DefaultMapper::default_slice_task over the
 *                      processors of the planned kind
 *   single launches    the planned processor (first of the kind on the launching node, or the
 *                      SingleTaskMap result)
 *   targets            the planned processors of the point (a point-set gives several);
 *                      default-placed points run where they were sliced
 *   memories           the best-affinity memory of the planned kind, or the DefaultMapper's
 *                      choice (default_policy_select_target_memory)
 *   layouts            SOA/AOS, C/F order, alignment, compact, exact as planned
 *   InstanceLimit      at most N mapped-but-unfinished tasks of a name per processor
 *                      (select_tasks_to_map defers the rest until one reports completion)
 *   CollectMemory      read-only requirements listed as untracked valid regions
 *   memoization        only with -mapgym:memoize 1 (the Python side passes it when the
 *                      application's flags have -dm:memoize, which the group used on
 *                      multi-node runs only); otherwise every iteration of a traced loop is
 *                      mapped by this mapper again
 *
 * Every mapped task is logged as one line starting with "MAPGYM map" (see log_mapping) so the
 * Python side can check the decisions Legion really applied against the resolver's plan.
 */
#ifndef MAPPER_GYM_DSL_MAPPER_H
#define MAPPER_GYM_DSL_MAPPER_H

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "default_mapper.h"
#include "legion.h"
#include "plan.h"

namespace mapper_gym {

class DSLMapper : public Legion::Mapping::DefaultMapper {
 public:
  DSLMapper(Legion::Mapping::MapperRuntime* rt, Legion::Machine machine,
            Legion::Processor local, std::shared_ptr<const Plan> plan, bool log_decisions);

  const char* get_mapper_name(void) const override;
  MapperSyncModel get_mapper_sync_model(void) const override;

  void select_task_options(const Legion::Mapping::MapperContext ctx, const Legion::Task& task,
                           TaskOptions& output) override;
  void slice_task(const Legion::Mapping::MapperContext ctx, const Legion::Task& task,
                  const SliceTaskInput& input, SliceTaskOutput& output) override;
  void map_task(const Legion::Mapping::MapperContext ctx, const Legion::Task& task,
                const MapTaskInput& input, MapTaskOutput& output) override;
  void select_tasks_to_map(const Legion::Mapping::MapperContext ctx,
                           const SelectMappingInput& input,
                           SelectMappingOutput& output) override;
  void report_profiling(const Legion::Mapping::MapperContext ctx, const Legion::Task& task,
                        const TaskProfilingInfo& input) override;
  void memoize_operation(const Legion::Mapping::MapperContext ctx,
                         const Legion::Mappable& mappable, const MemoizeInput& input,
                         MemoizeOutput& output) override;

  /* Registers one DSLMapper per local processor (a Legion registration callback). */
  static void register_with_runtime(Legion::Machine machine, Legion::Runtime* runtime,
                                    const std::set<Legion::Processor>& local_procs);
  /* Reads the plan named on the command line (-mapgym:plan FILE); exits with the original
   * mapper's messages when it is missing. Call before Runtime::start. */
  static void load_from_command_line(int argc, char** argv);

 private:
  const LaunchPlan* launch_of(const Legion::Task& task) const;
  const PointPlan* point_of(const Legion::Task& task, const LaunchPlan* launch) const;
  Legion::Processor processor_at(Legion::Processor::Kind kind, const ProcRef& ref) const;
  Legion::Memory best_memory(Legion::Processor proc, Legion::Memory::Kind kind) const;
  Legion::VariantID variant_for(const Legion::Mapping::MapperContext ctx,
                                const Legion::Task& task, Legion::Processor::Kind kind);
  Legion::LayoutConstraintSet constraints_for(const Legion::RegionRequirement& req,
                                              const InstancePlan& inst,
                                              Legion::Memory memory) const;
  void log_mapping(const Legion::Mapping::MapperContext ctx, const Legion::Task& task,
                   int group, const MapTaskOutput& output, const std::vector<bool>& created);
  std::string describe_proc(Legion::Processor proc) const;
  std::string describe_memory(Legion::Memory memory) const;
  std::string describe_layout(const Legion::Mapping::MapperContext ctx,
                              const Legion::Mapping::PhysicalInstance& instance) const;

  std::shared_ptr<const Plan> plan;
  bool log_decisions;
  // Processors and memories of every kind, per address space, in id order: position i is the
  // DSL's index i (Machine(K)[node, i]).
  std::map<Legion::Processor::Kind, std::vector<std::vector<Legion::Processor>>> procs;
  std::map<Legion::Memory::Kind, std::vector<std::vector<Legion::Memory>>> memories;
  std::map<Legion::Processor::Kind, std::map<Legion::Domain, std::vector<TaskSlice>>>
      default_slices;
  // InstanceLimit: tasks of each name selected on this processor and not yet finished.
  std::map<std::string, int> in_flight;
  Legion::Mapping::MapperEvent limit_event;
  // What was last logged per (task, group, point): a decision is logged again only if it
  // changed, which keeps logs short while showing any variation across iterations.
  std::map<std::string, std::string> logged;
};

}  // namespace mapper_gym

#endif
