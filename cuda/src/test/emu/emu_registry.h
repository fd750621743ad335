// Kernel registry of the CUDA emulator: turns a kernel's C++ signature into a callable that
// unpacks the arguments the Java side sent, checking every argument's kind and size first, so a
// marshalling mistake in the Java launcher (an int where the kernel takes a pointer, a struct of
// the wrong size) fails the test instead of silently computing garbage.
//
// A generated translation unit per .cu file includes this header, then the .cu file, then
//   static emu::Registrar r{emu::wrap("name", &name), ...};
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "cuda_emu.h"

namespace emu {

/** One kernel argument as sent by Java: a kind code and its bytes (8 for scalars/pointers). */
struct ArgView {
    char code;
    const unsigned char* data;
    uint32_t size;
};

/** Kind codes: p pointer, i int32, u uint32, l int64, f float, d double, s struct (by value). */
template <typename T>
constexpr char code_of() {
    if constexpr (std::is_pointer_v<T>) return 'p';
    else if constexpr (std::is_same_v<T, int>) return 'i';
    else if constexpr (std::is_same_v<T, unsigned int>) return 'u';
    else if constexpr (std::is_same_v<T, long long> || std::is_same_v<T, long>) return 'l';
    else if constexpr (std::is_same_v<T, float>) return 'f';
    else if constexpr (std::is_same_v<T, double>) return 'd';
    else {
        static_assert(std::is_trivially_copyable_v<T> && std::is_class_v<T>, "unsupported kernel parameter type");
        return 's';
    }
}

template <typename T>
T take(const ArgView& a) {
    if constexpr (std::is_pointer_v<T>) {
        uint64_t u;
        std::memcpy(&u, a.data, 8);
        return reinterpret_cast<T>(static_cast<uintptr_t>(u));
    } else {
        T v;
        std::memcpy(&v, a.data, sizeof(T));
        return v;
    }
}

struct Kernel {
    std::string name;
    std::string sig;                 // one kind code per parameter
    std::vector<uint32_t> sizes;     // sizeof each parameter (checked for structs)
    void (*invoke)(void* fn, const std::vector<ArgView>& args);
    void* fn;
};

template <typename... A, size_t... I>
void invoke_impl(void (*f)(A...), const std::vector<ArgView>& a, std::index_sequence<I...>) {
    f(take<A>(a[I])...);
}

template <typename... A>
void invoke_erased(void* fn, const std::vector<ArgView>& a) {
    auto f = reinterpret_cast<void (*)(A...)>(fn);
    invoke_impl(f, a, std::index_sequence_for<A...>{});
}

template <typename... A>
Kernel wrap(const char* name, void (*f)(A...)) {
    Kernel k;
    k.name = name;
    k.sig = std::string{code_of<A>()...};
    k.sizes = std::vector<uint32_t>{static_cast<uint32_t>(sizeof(A))...};
    k.invoke = &invoke_erased<A...>;
    k.fn = reinterpret_cast<void*>(f);
    return k;
}

std::vector<Kernel>& registry();

struct Registrar {
    Registrar(std::initializer_list<Kernel> ks) {
        for (const Kernel& k : ks) registry().push_back(k);
    }
};

}  // namespace emu
