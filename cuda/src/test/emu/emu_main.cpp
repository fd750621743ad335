// The CUDA emulator process: a "device" that the Java tests drive through stdin/stdout.
//
// Device memory is host memory (malloc); a device pointer is its host address. New allocations
// are filled with 0xFF bytes (NaN as float), so a kernel that leaves an output element unwritten
// is caught by the comparison with the CPU backend. Every command answers with a status byte
// (0 ok, 1 error followed by a u32 length and a message), then its payload. Integers are little
// endian. Commands:
//   A u64 bytes                      -> u64 pointer         allocate
//   F u64 ptr                                               free
//   W u64 ptr u64 n bytes[n]                                host -> device
//   R u64 ptr u64 n                  -> bytes[n]            device -> host
//   S u64 ptr u64 count u8 width u32 value                  memset of 1- or 4-byte values
//   C u64 dst u64 src u64 n                                 device -> device
//   L u16 len name u32 gx gy gz bx by bz shared u16 nargs (u8 kind [u32 size] bytes)...  launch
//                                   (shared: dynamic shared memory bytes, NaN-filled per block)
//   K                                -> u32 n (u16 len name u16 len sig)...   list kernels
//   Q                                                       quit
// Memory commands and pointer arguments are checked against the live allocations.
#include <ucontext.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "emu_registry.h"
#include "mma.h"
#include "tensor_core_emu.h"

// AddressSanitizer (the tests build the emulator with it, so a kernel reading or writing outside an
// allocation aborts with a report) must be told about every switch between fiber stacks.
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define START_SWITCH(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define FINISH_SWITCH(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define START_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define FINISH_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

namespace emu {

std::vector<Kernel>& registry() {
    static std::vector<Kernel> r;
    return r;
}

// ---- fibers: the threads of one block -----------------------------------------------------------

enum State { READY, WAIT_BLOCK, WAIT_WARP, DONE };

struct Fiber {
    ucontext_t ctx;
    State state;
    uint3 tid;
    int warp;
    int lane;
    void* fake_stack;  // ASan's bookkeeping for this fiber's stack while it is switched out
    unsigned shuffles;  // shuffles done so far (selects the slot buffer)
    unsigned mmas;      // wmma::mma_sync calls done so far (selects the exchange buffer)
    // cp.async copies issued but not yet landed, each tagged with its group (open_group until committed).
    struct Copy {
        void* dst;
        const void* src;
        bool fill;
        int group;
    };
    std::vector<Copy> copies;
    int open_group;
};

struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

static const size_t STACK_BYTES = 256 * 1024;
static std::vector<char*> stacks;
static std::vector<Fiber> fibers;
static ucontext_t scheduler;
static int current = -1;
static int threads_per_block = 0;
static int block_waiting = 0;
static int done_count = 0;
static std::vector<int> warp_waiting, warp_done, warp_lanes;
static std::vector<uint64_t> warp_slots;
static std::vector<float> warp_mma;  // per warp two exchange buffers of WMMA_EXCHANGE floats
static std::string failure;  // set by a fiber; the scheduler aborts the launch
static const Kernel* launch_kernel = nullptr;
static const std::vector<ArgView>* launch_args = nullptr;
static const void* scheduler_stack = nullptr;  // the scheduler's (main) stack, learned on the first switch
static size_t scheduler_stack_size = 0;

static unsigned char* dyn_shared = nullptr;  // this launch's dynamic shared memory (malloc'd: ASan sees its end)
static size_t dyn_shared_bytes = 0;
static bool inside_allocation(uintptr_t p, size_t n);

/** Switches from the running fiber to the scheduler; returns when the scheduler resumes it. */
static void to_scheduler(bool dying);
static void fail_in_fiber(const std::string& msg);
static std::string where();

void kernel_error(const std::string& msg) {
    fail_in_fiber(msg + " at " + where());
}

// Alternating buffers, as the shuffle slots: a lane reaches mma k + 2 (which rewrites the buffer of
// mma k) only after every lane has passed the warp barrier of mma k + 1, i.e. has finished reading.
float* wmma_exchange() {
    Fiber& f = fibers[current];
    return &warp_mma[((size_t)f.warp * 2 + (f.mmas++ & 1)) * WMMA_EXCHANGE];
}

void* dynamic_shared() {
    if (dyn_shared_bytes == 0) kernel_error("the kernel uses dynamic shared memory but the launch asked for none");
    return dyn_shared;
}

void cp_async16(void* dst, const void* src, bool fill) {
    if (reinterpret_cast<uintptr_t>(dst) % 16 != 0 || reinterpret_cast<uintptr_t>(src) % 16 != 0) {
        kernel_error("cp.async: 16-byte copy with a source or destination not 16-byte aligned");
    }
    if (fill && !inside_allocation(reinterpret_cast<uintptr_t>(src), 16)) {
        kernel_error("cp.async: source " + std::to_string(reinterpret_cast<uintptr_t>(src)) + " is not inside a live allocation");
    }
    Fiber& f = fibers[current];
    f.copies.push_back(Fiber::Copy{dst, src, fill, f.open_group});
}

void cp_async_commit() {
    fibers[current].open_group++;
}

/** Lands the calling thread's copies of every committed group but the newest {@code pending}. */
static void land_copies(Fiber& f, int upTo) {
    size_t kept = 0;
    for (size_t i = 0; i < f.copies.size(); i++) {
        Fiber::Copy c = f.copies[i];
        if (c.group < upTo) {
            if (c.fill) std::memcpy(c.dst, c.src, 16);
            else std::memset(c.dst, 0, 16);
        } else {
            f.copies[kept++] = c;
        }
    }
    f.copies.resize(kept);
}

void cp_async_wait(int pending) {
    Fiber& f = fibers[current];
    land_copies(f, f.open_group - pending);
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 with the PTX ISA's fragment layout: lane l,
// g = l / 4, t = l % 4 holds A (16x8) elements a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4),
// B (8x8) elements b0 (t, g), b1 (t+4, g), and D (16x8) elements d0 (g, 2t), d1 (g, 2t+1),
// d2 (g+8, 2t), d3 (g+8, 2t+1).
void mma_tf32_m16n8k8(float* d, const uint32_t* a, const uint32_t* b) {
    float* buf = wmma_exchange();  // A [16][8] at 0, B [8][8] at 128
    int lane = lane_id(), g = lane / 4, t = lane % 4;
    float av[4], bv[2];
    for (int i = 0; i < 4; i++) {
        if (i < 2 && (b[i] & 0x1fffu) != 0 && (b[i] & 0x7f800000u) != 0x7f800000u) {
            kernel_error("mma.sync tf32: operand b" + std::to_string(i) + " has nonzero low 13 bits (convert with tc_to_tf32)");
        }
        if ((a[i] & 0x1fffu) != 0 && (a[i] & 0x7f800000u) != 0x7f800000u) {
            kernel_error("mma.sync tf32: operand a" + std::to_string(i) + " has nonzero low 13 bits (convert with tc_to_tf32)");
        }
        std::memcpy(&av[i], &a[i], 4);
        if (i < 2) std::memcpy(&bv[i], &b[i], 4);
    }
    buf[g * 8 + t] = av[0];
    buf[(g + 8) * 8 + t] = av[1];
    buf[g * 8 + t + 4] = av[2];
    buf[(g + 8) * 8 + t + 4] = av[3];
    buf[128 + t * 8 + g] = bv[0];
    buf[128 + (t + 4) * 8 + g] = bv[1];
    sync_warp();
    for (int i = 0; i < 4; i++) {
        int r = g + (i >= 2 ? 8 : 0), c = 2 * t + (i & 1);
        float s = d[i];
        for (int k = 0; k < 8; k++) s += buf[r * 8 + k] * buf[128 + k * 8 + c];
        d[i] = s;
    }
}

/** The float value of one half of a packed bf16x2 / f16x2 register. */
static float half_value(bool bf16, uint32_t bits) {
    if (bf16) {
        uint32_t u = bits << 16;
        float v;
        std::memcpy(&v, &u, 4);
        return v;
    }
    uint16_t h = static_cast<uint16_t>(bits);
    _Float16 v;
    std::memcpy(&v, &h, 2);
    return static_cast<float>(v);
}

// mma.sync.aligned.m16n8k16.row.col.f32.{bf16,f16}.{bf16,f16}.f32: each register holds two halves,
// the lower one the smaller k. Lane l, g = l / 4, t = l % 4 holds A (16x16) pairs a0 (g, 2t..2t+1),
// a1 (g+8, 2t..2t+1), a2 (g, 2t+8..2t+9), a3 (g+8, 2t+8..2t+9), B (16x8) pairs b0 (2t..2t+1, g),
// b1 (2t+8..2t+9, g), and D as m16n8k8. Products of halves are exact in float.
void mma_half_m16n8k16(bool bf16, float* d, const uint32_t* a, const uint32_t* b) {
    float* buf = wmma_exchange();  // A [16][16] at 0, B [16][8] at 256
    int lane = lane_id(), g = lane / 4, t = lane % 4;
    for (int i = 0; i < 4; i++) {
        int r = g + (i & 1) * 8, k = 2 * t + (i >= 2 ? 8 : 0);
        buf[r * 16 + k] = half_value(bf16, a[i]);
        buf[r * 16 + k + 1] = half_value(bf16, a[i] >> 16);
    }
    for (int i = 0; i < 2; i++) {
        int k = 2 * t + 8 * i;
        buf[256 + k * 8 + g] = half_value(bf16, b[i]);
        buf[256 + (k + 1) * 8 + g] = half_value(bf16, b[i] >> 16);
    }
    sync_warp();
    for (int i = 0; i < 4; i++) {
        int r = g + (i >= 2 ? 8 : 0), c = 2 * t + (i & 1);
        float s = d[i];
        for (int k = 0; k < 16; k++) s += buf[r * 16 + k] * buf[256 + k * 8 + c];
        d[i] = s;
    }
}

static void to_scheduler(bool dying) {
    Fiber& f = fibers[current];
    START_SWITCH(dying ? nullptr : &f.fake_stack, scheduler_stack, scheduler_stack_size);
    swapcontext(&f.ctx, &scheduler);
    FINISH_SWITCH(fibers[current].fake_stack, &scheduler_stack, &scheduler_stack_size);
}

static void fail_in_fiber(const std::string& msg) {
    if (failure.empty()) failure = msg;
    to_scheduler(true);  // never resumed
    std::abort();
}

static std::string where() {
    const Fiber& f = fibers[current];
    char buf[160];
    std::snprintf(buf, sizeof buf, "block (%u,%u,%u) thread (%u,%u,%u)", blockIdx.x, blockIdx.y, blockIdx.z,
                  f.tid.x, f.tid.y, f.tid.z);
    return buf;
}

static void yield() {
    to_scheduler(false);
}

void sync_block() {
    if (done_count > 0) {
        fail_in_fiber("__syncthreads() at " + where() + " after other threads of the block exited (divergent barrier)");
    }
    Fiber& f = fibers[current];
    if (++block_waiting == threads_per_block) {
        block_waiting = 0;
        for (Fiber& o : fibers) {
            if (o.state == WAIT_BLOCK) o.state = READY;
        }
        return;  // the last thread to arrive goes on
    }
    f.state = WAIT_BLOCK;
    yield();
}

void sync_warp() {
    Fiber& f = fibers[current];
    int w = f.warp;
    if (warp_done[w] > 0) {
        fail_in_fiber("warp barrier / shuffle at " + where() + " after other lanes of the warp exited");
    }
    if (++warp_waiting[w] == warp_lanes[w]) {
        warp_waiting[w] = 0;
        for (Fiber& o : fibers) {
            if (o.warp == w && o.state == WAIT_WARP) o.state = READY;
        }
        return;
    }
    f.state = WAIT_WARP;
    yield();
}

int lane_id() {
    return fibers[current].lane;
}

// Two slot buffers used alternately: a lane can only reach shuffle k + 2 (which rewrites the buffer
// of shuffle k) after every lane has passed the barrier of shuffle k + 1, i.e. after every lane has
// read its value of shuffle k. So one warp barrier per shuffle suffices.
uint64_t warp_exchange(uint64_t mine, int src) {
    Fiber& f = fibers[current];
    int w = f.warp;
    uint64_t* slots = &warp_slots[((size_t)w * 2 + (f.shuffles++ & 1)) * 32];
    slots[f.lane] = mine;
    sync_warp();
    return (src >= 0 && src < warp_lanes[w]) ? slots[src] : mine;
}

static void fiber_entry() {
    FINISH_SWITCH(nullptr, &scheduler_stack, &scheduler_stack_size);
    launch_kernel->invoke(launch_kernel->fn, *launch_args);
    Fiber& f = fibers[current];
    land_copies(f, INT_MAX);  // copies still in flight complete after the thread exits
    f.state = DONE;
    done_count++;
    warp_done[f.warp]++;
    if (block_waiting > 0) {
        fail_in_fiber("thread at " + where() + " exited while other threads wait at __syncthreads() (divergent barrier)");
    }
    if (warp_waiting[f.warp] > 0) {
        fail_in_fiber("lane at " + where() + " exited while other lanes of its warp wait in a shuffle / __syncwarp()");
    }
    // Returning ends the fiber; uc_link resumes the scheduler.
    START_SWITCH(nullptr, scheduler_stack, scheduler_stack_size);
}

/** Runs every block of the grid; returns an error message or "". */
static std::string run_grid(const Kernel& k, const std::vector<ArgView>& args, dim3 grid, dim3 block, size_t shared) {
    long long nt = (long long)block.x * block.y * block.z;
    if (nt < 1 || nt > 1024 || block.z > 64) return "block dimensions exceed the device limits (1..1024 threads, z <= 64)";
    if (grid.x < 1 || grid.y < 1 || grid.z < 1 || grid.y > 65535 || grid.z > 65535) return "bad grid dimensions";
    // 227 KiB: the most one block may opt in to on sm_90 (kernels above 48 KiB set the attribute).
    if (shared > 227 * 1024) return "dynamic shared memory of " + std::to_string(shared) + " bytes exceeds the device's 232448";
    struct SharedBuffer {
        explicit SharedBuffer(size_t n) {
            dyn_shared_bytes = n;
            dyn_shared = n ? static_cast<unsigned char*>(std::malloc(n)) : nullptr;
        }
        ~SharedBuffer() {
            std::free(dyn_shared);
            dyn_shared = nullptr;
            dyn_shared_bytes = 0;
        }
    } shared_buffer(shared);
    threads_per_block = (int)nt;
    while ((int)stacks.size() < threads_per_block) stacks.push_back(static_cast<char*>(std::malloc(STACK_BYTES)));
    int nwarps = (threads_per_block + 31) / 32;
    fibers.assign(threads_per_block, Fiber{});
    launch_kernel = &k;
    launch_args = &args;
    blockDim = block;
    gridDim = grid;
    for (unsigned bz = 0; bz < grid.z; bz++) {
        for (unsigned by = 0; by < grid.y; by++) {
            for (unsigned bx = 0; bx < grid.x; bx++) {
                blockIdx = uint3{bx, by, bz};
                if (dyn_shared_bytes) std::memset(dyn_shared, 0xFF, dyn_shared_bytes);  // undefined at block start: NaN
                block_waiting = 0;
                done_count = 0;
                warp_waiting.assign(nwarps, 0);
                warp_done.assign(nwarps, 0);
                warp_lanes.assign(nwarps, 0);
                warp_slots.assign((size_t)nwarps * 2 * 32, 0);
                warp_mma.assign((size_t)nwarps * 2 * WMMA_EXCHANGE, 0.f);
                for (int t = 0; t < threads_per_block; t++) {
                    Fiber& f = fibers[t];
                    f.tid = uint3{(unsigned)(t % block.x), (unsigned)((t / block.x) % block.y), (unsigned)(t / (block.x * block.y))};
                    f.warp = t / 32;
                    f.lane = t % 32;
                    f.state = READY;
                    f.fake_stack = nullptr;
                    f.shuffles = 0;
                    f.mmas = 0;
                    f.copies.clear();
                    f.open_group = 0;
                    warp_lanes[f.warp]++;
                    getcontext(&f.ctx);
                    f.ctx.uc_stack.ss_sp = stacks[t];
                    f.ctx.uc_stack.ss_size = STACK_BYTES;
                    f.ctx.uc_link = &scheduler;
                    makecontext(&f.ctx, fiber_entry, 0);
                }
                int finished = 0;
                while (finished < threads_per_block) {
                    bool progress = false;
                    finished = 0;
                    for (int t = 0; t < threads_per_block; t++) {
                        if (fibers[t].state == READY) {
                            current = t;
                            threadIdx = fibers[t].tid;
                            void* fake = nullptr;
                            START_SWITCH(&fake, stacks[t], STACK_BYTES);
                            swapcontext(&scheduler, &fibers[t].ctx);
                            FINISH_SWITCH(fake, nullptr, nullptr);
                            if (!failure.empty()) {
                                std::string m = failure;
                                failure.clear();
                                return m;
                            }
                            progress = true;
                        }
                        if (fibers[t].state == DONE) finished++;
                    }
                    if (!progress && finished < threads_per_block) {
                        char buf[200];
                        std::snprintf(buf, sizeof buf, "deadlock in block (%u,%u,%u): %d threads wait at barriers that can never complete",
                                      bx, by, bz, threads_per_block - finished);
                        return buf;
                    }
                }
            }
        }
    }
    return "";
}

}  // namespace emu

// ---- the command loop ---------------------------------------------------------------------------

static std::map<uintptr_t, size_t> allocations;

static void read_exact(void* p, size_t n) {
    if (n && std::fread(p, 1, n, stdin) != n) std::exit(0);  // Java went away
}

template <typename T>
static T rd() {
    T v;
    read_exact(&v, sizeof v);
    return v;
}

static void ok() {
    std::fputc(0, stdout);
}

static void error(const std::string& m) {
    std::fputc(1, stdout);
    uint32_t n = (uint32_t)m.size();
    std::fwrite(&n, 4, 1, stdout);
    std::fwrite(m.data(), 1, n, stdout);
}

/** Whether [p, p + n) lies inside one live allocation. */
static bool inside(uintptr_t p, size_t n) {
    auto it = allocations.upper_bound(p);
    if (it == allocations.begin()) return false;
    --it;
    return p >= it->first && p + n <= it->first + it->second;
}

namespace emu {
static bool inside_allocation(uintptr_t p, size_t n) {
    return inside(p, n);
}
}  // namespace emu

static std::string hex(uintptr_t p) {
    char b[32];
    std::snprintf(b, sizeof b, "0x%llx", (unsigned long long)p);
    return b;
}

int main() {
    std::setvbuf(stdout, nullptr, _IOFBF, 1 << 16);
    std::vector<unsigned char> buf;
    for (;;) {
        int cmd = std::fgetc(stdin);
        if (cmd == EOF || cmd == 'Q') return 0;
        switch (cmd) {
            case 'A': {
                uint64_t n = rd<uint64_t>();
                void* p = std::malloc(n ? n : 1);
                if (!p) {
                    error("host malloc of " + std::to_string(n) + " bytes failed");
                    break;
                }
                std::memset(p, 0xFF, n);
                allocations[(uintptr_t)p] = n;
                ok();
                uint64_t u = (uintptr_t)p;
                std::fwrite(&u, 8, 1, stdout);
                break;
            }
            case 'F': {
                uintptr_t p = rd<uint64_t>();
                auto it = allocations.find(p);
                if (it == allocations.end()) {
                    error("free of " + hex(p) + ", which is not a live allocation");
                    break;
                }
                allocations.erase(it);
                std::free((void*)p);
                ok();
                break;
            }
            case 'W': {
                uintptr_t p = rd<uint64_t>();
                uint64_t n = rd<uint64_t>();
                buf.resize(n);
                read_exact(buf.data(), n);
                if (!inside(p, n)) {
                    error("write of " + std::to_string(n) + " bytes at " + hex(p) + " outside every allocation");
                    break;
                }
                std::memcpy((void*)p, buf.data(), n);
                ok();
                break;
            }
            case 'R': {
                uintptr_t p = rd<uint64_t>();
                uint64_t n = rd<uint64_t>();
                if (!inside(p, n)) {
                    error("read of " + std::to_string(n) + " bytes at " + hex(p) + " outside every allocation");
                    break;
                }
                ok();
                std::fwrite((void*)p, 1, n, stdout);
                break;
            }
            case 'S': {
                uintptr_t p = rd<uint64_t>();
                uint64_t count = rd<uint64_t>();
                uint8_t width = rd<uint8_t>();
                uint32_t value = rd<uint32_t>();
                if ((width != 1 && width != 4) || !inside(p, count * width)) {
                    error("memset of " + std::to_string(count) + " x " + std::to_string(width) + " bytes at " + hex(p) + " is invalid");
                    break;
                }
                if (width == 1) {
                    std::memset((void*)p, (int)(value & 0xFF), count);
                } else {
                    uint32_t* q = (uint32_t*)p;
                    for (uint64_t i = 0; i < count; i++) q[i] = value;
                }
                ok();
                break;
            }
            case 'C': {
                uintptr_t d = rd<uint64_t>();
                uintptr_t s = rd<uint64_t>();
                uint64_t n = rd<uint64_t>();
                if (!inside(d, n) || !inside(s, n)) {
                    error("copy of " + std::to_string(n) + " bytes from " + hex(s) + " to " + hex(d) + " outside the allocations");
                    break;
                }
                std::memmove((void*)d, (void*)s, n);
                ok();
                break;
            }
            case 'K': {
                ok();
                uint32_t n = (uint32_t)emu::registry().size();
                std::fwrite(&n, 4, 1, stdout);
                for (const emu::Kernel& k : emu::registry()) {
                    uint16_t a = (uint16_t)k.name.size(), b = (uint16_t)k.sig.size();
                    std::fwrite(&a, 2, 1, stdout);
                    std::fwrite(k.name.data(), 1, a, stdout);
                    std::fwrite(&b, 2, 1, stdout);
                    std::fwrite(k.sig.data(), 1, b, stdout);
                }
                break;
            }
            case 'L': {
                uint16_t len = rd<uint16_t>();
                std::string name(len, '\0');
                read_exact(&name[0], len);
                dim3 grid{rd<uint32_t>(), rd<uint32_t>(), rd<uint32_t>()};
                dim3 block{rd<uint32_t>(), rd<uint32_t>(), rd<uint32_t>()};
                uint32_t shared = rd<uint32_t>();
                uint16_t nargs = rd<uint16_t>();
                // Read every argument before validating, so the stream stays in step on errors.
                std::vector<std::vector<unsigned char>> bytes(nargs);
                std::vector<emu::ArgView> args(nargs);
                for (int i = 0; i < nargs; i++) {
                    char kind = (char)rd<uint8_t>();
                    uint32_t size = kind == 's' ? rd<uint32_t>() : 8;
                    bytes[i].resize(size);
                    read_exact(bytes[i].data(), size);
                    args[i] = emu::ArgView{kind, bytes[i].data(), size};
                }
                const emu::Kernel* k = nullptr;
                for (const emu::Kernel& c : emu::registry()) {
                    if (c.name == name) k = &c;
                }
                if (!k) {
                    error("no kernel named " + name);
                    break;
                }
                std::string bad;
                if (nargs != k->sig.size()) {
                    bad = name + " takes " + std::to_string(k->sig.size()) + " arguments (" + k->sig + "), got " + std::to_string(nargs);
                }
                for (int i = 0; bad.empty() && i < nargs; i++) {
                    if (args[i].code != k->sig[i]) {
                        bad = name + " argument " + std::to_string(i) + ": kernel expects kind '" + k->sig[i] + "', Java passed '" + args[i].code + "'";
                    } else if (args[i].code == 's' && args[i].size != k->sizes[i]) {
                        bad = name + " argument " + std::to_string(i) + ": struct of " + std::to_string(k->sizes[i]) + " bytes, Java passed " + std::to_string(args[i].size);
                    } else if (args[i].code == 'p') {
                        uint64_t u;
                        std::memcpy(&u, args[i].data, 8);
                        if (u != 0 && !inside((uintptr_t)u, 0)) {
                            bad = name + " argument " + std::to_string(i) + ": pointer " + hex((uintptr_t)u) + " is not inside a live allocation";
                        }
                    }
                }
                if (bad.empty()) bad = emu::run_grid(*k, args, grid, block, shared);
                if (!bad.empty()) {
                    error(bad);
                } else {
                    ok();
                }
                break;
            }
            default:
                error(std::string("unknown command ") + (char)cmd);
                std::fflush(stdout);
                return 2;
        }
        std::fflush(stdout);
    }
}
