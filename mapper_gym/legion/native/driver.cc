/*
 * mapper-gym-legion: one executable for every application.
 *
 *   mapper-gym-legion <app> -mapgym:plan PLAN [-mapgym:log 0|1] [app flags] [Legion flags]
 *
 * The first argument selects the application; only its tasks are registered, so task ids of
 * different applications never meet. The DSL mapper replaces the default mapper on every
 * processor before the runtime starts.
 */
#include <cstdio>
#include <cstring>
#include <vector>

#include "apps/common.h"
#include "dsl_mapper.h"

namespace {

const mapper_gym::apps::App kApps[] = {
    {"stencil", mapper_gym::apps::register_stencil},
    {"circuit", mapper_gym::apps::register_circuit},
    {"pennant", mapper_gym::apps::register_pennant},
    {"cannon", mapper_gym::apps::register_cannon},
    {"summa", mapper_gym::apps::register_summa},
    {"pumma", mapper_gym::apps::register_pumma},
    {"johnson", mapper_gym::apps::register_johnson},
    {"cosma", mapper_gym::apps::register_cosma},
    {"solomonik", mapper_gym::apps::register_solomonik},
};

void usage() {
  std::fprintf(stderr, "usage: mapper-gym-legion <app> -mapgym:plan PLAN [flags]\napps:");
  for (const auto& app : kApps) std::fprintf(stderr, " %s", app.name);
  std::fprintf(stderr, "\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage();
    return 2;
  }
  if (std::strcmp(argv[1], "--list") == 0) {
    for (const auto& app : kApps) std::printf("%s\n", app.name);
    return 0;
  }
  const mapper_gym::apps::App* chosen = nullptr;
  for (const auto& app : kApps)
    if (std::strcmp(argv[1], app.name) == 0) chosen = &app;
  if (chosen == nullptr) {
    std::fprintf(stderr, "unknown application '%s'\n", argv[1]);
    usage();
    return 2;
  }
  // Legion sees the command line without the application name.
  std::vector<char*> args;
  args.push_back(argv[0]);
  for (int i = 2; i < argc; i++) args.push_back(argv[i]);
  args.push_back(nullptr);
  int legion_argc = static_cast<int>(args.size()) - 1;
  char** legion_argv = args.data();

  mapper_gym::DSLMapper::load_from_command_line(legion_argc, legion_argv);
  chosen->register_tasks();
  Legion::Runtime::add_registration_callback(mapper_gym::DSLMapper::register_with_runtime);
  return Legion::Runtime::start(legion_argc, legion_argv);
}
