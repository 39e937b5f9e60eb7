// Fuzz target: a station traceability export as `otafleetctl station import` reads it (another
// station's file: outside data). Must refuse anything malformed with a coded error; what it
// accepts must export and parse back to the same records, and summarize without trouble.
#include "station/RecordExport.h"

#include <cmath>
#include <cstddef>
#include <cstdint>

using namespace otafleet::station;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto records = parseRecordsJson(QByteArrayView(data, static_cast<qsizetype>(size)));
    if (!records) {
        if (records.error().code.isEmpty() || records.error().message.isEmpty()) {
            __builtin_trap();
        }
        return 0;
    }
    const auto again = parseRecordsJson(exportJson(*records));
    if (!again || *again != *records) {
        __builtin_trap();
    }
    const StationSummary summary = summarize(*records);
    if (summary.passed + summary.failed != summary.units ||
        summary.passedFirstTime > summary.distinctUnits ||
        (summary.firstPassYield && (*summary.firstPassYield < 0 || *summary.firstPassYield > 1)) ||
        std::isnan(summary.spanSeconds)) {
        __builtin_trap();
    }
    (void)exportCsv(*records);
    return 0;
}
