# Fuzz target of the factory station (issue 10/13): the traceability import (station import),
# the only station input that comes from outside the station.
otafleet_add_fuzz_target(NAME fuzz_station_import SOURCES fuzz_station_import.cpp
    LINK otafleet_station_records CORPUS corpus/station_import)
