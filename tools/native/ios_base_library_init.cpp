// std::ios_base_library_init() for libstdc++ older than GCC 13.
//
// GCC 13's libstdc++ (symbol version GLIBCXX_3.4.32) moved the construction of the standard streams out of every
// translation unit that includes <iostream> into this one exported function, which code compiled against it calls
// from a static initialiser. TorchSharp 0.107's libLibTorchSharp.so was built that way, so on GCC 12's libstdc++
// (Debian 12) it does not load. tools/setup builds this file into libaspo_ios_base_init.so, adds it as a dependency
// of a copy of libLibTorchSharp.so and unversions the one symbol; the function then does what older libstdc++ does
// in each such translation unit: construct one std::ios_base::Init, which initialises the standard streams once.
#include <ios>

namespace std
{
void ios_base_library_init();
}

void std::ios_base_library_init()
{
    static std::ios_base::Init init;
}
