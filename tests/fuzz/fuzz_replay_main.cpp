// Replay driver for fuzz targets in the normal (GCC) build: feeds every file named on the command
// line (folders are walked recursively) to LLVMFuzzerTestOneInput, and with each file a bounded,
// deterministic set of mutations (truncations and single bit flips), so that the committed corpus
// and the edges around it are exercised on every CI run without clang or libFuzzer.
// Exit code 0 when every input ran; 1 when no input was found or a path cannot be read.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Optional, as with libFuzzer: a target may define it to set things up once.
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

// Bigger inputs are still run whole, but mutations stay few so a replay takes seconds.
constexpr std::size_t kMaxInputSize = 16 * 1024 * 1024;
constexpr std::size_t kMaxBitFlips = 48;

std::size_t g_runs = 0;

void runOne(const std::vector<std::uint8_t>& input) {
    // A fresh copy of exactly `size` bytes, so reading past the end is caught by sanitizers
    // the same way libFuzzer would catch it.
    const std::vector<std::uint8_t> copy(input);
    LLVMFuzzerTestOneInput(copy.empty() ? nullptr : copy.data(), copy.size());
    ++g_runs;
}

void runWithMutations(const std::vector<std::uint8_t>& input) {
    runOne(input);
    const std::size_t n = input.size();
    if (n == 0) {
        return;
    }
    // Truncations: at the start, inside the first header-sized bytes, in the middle, at the end.
    std::vector<std::size_t> cuts{0, 1, 7, 8, 16, 24, 25, n / 4, n / 2, (3 * n) / 4, n - 1};
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    for (std::size_t cut : cuts) {
        if (cut < n) {
            runOne(std::vector<std::uint8_t>(input.begin(),
                                             input.begin() + static_cast<std::ptrdiff_t>(cut)));
        }
    }
    // Single bit flips spread evenly over the input, plus every bit of the first bytes, where
    // headers and lengths usually live.
    std::vector<std::size_t> bits;
    const std::size_t totalBits = n * 8;
    for (std::size_t i = 0; i < std::min<std::size_t>(totalBits, 16); ++i) {
        bits.push_back(i);
    }
    const std::size_t spread = kMaxBitFlips - bits.size();
    for (std::size_t i = 0; i < spread && totalBits > 16; ++i) {
        bits.push_back(16 + ((totalBits - 16) * i) / spread);
    }
    std::vector<std::uint8_t> flipped(input);
    for (std::size_t bit : bits) {
        const auto mask = static_cast<std::uint8_t>(1U << (bit % 8));
        flipped[bit / 8] ^= mask;
        runOne(flipped);
        flipped[bit / 8] ^= mask;
    }
}

bool replayFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        return false;
    }
    std::vector<std::uint8_t> data;
    data.reserve(static_cast<std::size_t>(std::filesystem::file_size(path)));
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (data.size() > kMaxInputSize) {
        runOne(data);
    } else {
        runWithMutations(data);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (LLVMFuzzerInitialize != nullptr) {
        LLVMFuzzerInitialize(&argc, &argv);
    }
    std::size_t files = 0;
    bool ok = true;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path root(argv[i]);
        std::error_code ec;
        if (std::filesystem::is_directory(root, ec)) {
            std::vector<std::filesystem::path> paths;
            for (const auto& entry : std::filesystem::recursive_directory_iterator(root, ec)) {
                if (entry.is_regular_file()) {
                    paths.push_back(entry.path());
                }
            }
            std::sort(paths.begin(), paths.end());  // same order on every machine
            for (const auto& path : paths) {
                ok = replayFile(path) && ok;
                ++files;
            }
        } else if (std::filesystem::is_regular_file(root, ec)) {
            ok = replayFile(root) && ok;
            ++files;
        } else {
            std::fprintf(stderr, "%s is neither a file nor a folder\n", argv[i]);
            ok = false;
        }
    }
    std::printf("replayed %zu inputs from %zu corpus files\n", g_runs, files);
    if (files == 0) {
        std::fprintf(stderr, "no corpus files found: give a corpus folder or file\n");
        return 1;
    }
    return ok ? 0 : 1;
}
