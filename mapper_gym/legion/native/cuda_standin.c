/*
 * A stand-in for the NVIDIA driver library (libcuda.so.1) on machines without a GPU driver.
 *
 * The Legion and Realm libraries of the legate wheel were built with CUDA support and list
 * libcuda.so.1 as a needed library, so a process linking them cannot even start without one.
 * This library satisfies the loader and tells Realm, truthfully, that there is no device:
 * cuInit fails with CUDA_ERROR_NO_DEVICE, Realm reports that it cannot discover CUDA resources
 * and runs CPU-only. It is only linked where no real driver exists (see build.py).
 *
 * Symbols: the four that liblegion links directly, cuInit, cuDriverGetVersion,
 * cuDeviceGetCount, and cuGetProcAddress(_v2), which hands out these functions by name and a
 * generic "no device" function for every other driver entry point Realm asks for (Realm
 * asserts when cuGetErrorName comes back null, so a null pointer is never returned).
 */
#include <stddef.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long cuuint64_t;
typedef unsigned long long CUdeviceptr;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_NOT_INITIALIZED = 3,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_NOT_FOUND = 500,
};

/* Marker that build.py looks for to tell this library from a real driver. */
int mapper_gym_cuda_standin = 1;

static const char *error_name(CUresult code) {
  switch (code) {
    case CUDA_SUCCESS: return "CUDA_SUCCESS";
    case CUDA_ERROR_INVALID_VALUE: return "CUDA_ERROR_INVALID_VALUE";
    case CUDA_ERROR_NOT_INITIALIZED: return "CUDA_ERROR_NOT_INITIALIZED";
    case CUDA_ERROR_NO_DEVICE: return "CUDA_ERROR_NO_DEVICE";
    case CUDA_ERROR_NOT_FOUND: return "CUDA_ERROR_NOT_FOUND";
    default: return "CUDA_ERROR_UNKNOWN";
  }
}

static const char *error_text(CUresult code) {
  switch (code) {
    case CUDA_SUCCESS: return "no error";
    case CUDA_ERROR_INVALID_VALUE: return "invalid argument";
    case CUDA_ERROR_NOT_INITIALIZED: return "initialization error";
    case CUDA_ERROR_NO_DEVICE: return "no CUDA-capable device is detected (mapper-gym stand-in driver)";
    case CUDA_ERROR_NOT_FOUND: return "named symbol not found";
    default: return "unknown error";
  }
}

CUresult cuGetErrorName(CUresult error, const char **name) {
  if (name == NULL) return CUDA_ERROR_INVALID_VALUE;
  *name = error_name(error);
  return CUDA_SUCCESS;
}

CUresult cuGetErrorString(CUresult error, const char **text) {
  if (text == NULL) return CUDA_ERROR_INVALID_VALUE;
  *text = error_text(error);
  return CUDA_SUCCESS;
}

CUresult cuInit(unsigned int flags) {
  (void)flags;
  return CUDA_ERROR_NO_DEVICE;
}

CUresult cuDriverGetVersion(int *version) {
  if (version == NULL) return CUDA_ERROR_INVALID_VALUE;
  *version = 12080; /* any recent version: there is no device to use anyway */
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count) {
  if (count == NULL) return CUDA_ERROR_INVALID_VALUE;
  *count = 0;
  return CUDA_SUCCESS;
}

/* Nothing was ever allocated, so there is nothing to free. */
CUresult cuMemFreeHost(void *ptr) {
  (void)ptr;
  return CUDA_ERROR_NOT_INITIALIZED;
}

CUresult cuMemFree_v2(CUdeviceptr ptr) {
  (void)ptr;
  return CUDA_ERROR_NOT_INITIALIZED;
}

/* Every other entry point: there is no device. The x86-64 calling convention lets a function
 * without parameters stand in for any signature returning an int-sized CUresult. */
static CUresult no_device(void) { return CUDA_ERROR_NO_DEVICE; }

typedef CUresult (*any_fn)(void);
/* Through void (*)(void), the one function type GCC lets any function pointer convert to
 * without a warning; callers cast back to the real signature. */
#define AS_ANY(f) ((any_fn)(void (*)(void))(f))

static any_fn lookup(const char *symbol) {
  static const struct { const char *name; any_fn fn; } table[] = {
    {"cuInit", AS_ANY(cuInit)},
    {"cuDriverGetVersion", AS_ANY(cuDriverGetVersion)},
    {"cuDeviceGetCount", AS_ANY(cuDeviceGetCount)},
    {"cuGetErrorName", AS_ANY(cuGetErrorName)},
    {"cuGetErrorString", AS_ANY(cuGetErrorString)},
    {"cuMemFreeHost", AS_ANY(cuMemFreeHost)},
    {"cuMemFree", AS_ANY(cuMemFree_v2)},
  };
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
    if (strcmp(symbol, table[i].name) == 0) return table[i].fn;
  return no_device;
}

CUresult cuGetProcAddress(const char *symbol, void **pfn, int version, cuuint64_t flags) {
  (void)version;
  (void)flags;
  if (symbol == NULL || pfn == NULL) return CUDA_ERROR_INVALID_VALUE;
  *pfn = (void *)lookup(symbol);
  return CUDA_SUCCESS;
}

CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version, cuuint64_t flags,
                             int *status) {
  CUresult result = cuGetProcAddress(symbol, pfn, version, flags);
  if (status != NULL) *status = 0; /* CU_GET_PROC_ADDRESS_SUCCESS */
  return result;
}
