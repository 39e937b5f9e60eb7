# Fuzz target of otafleetd's request decoding and checks (ConsoleService, DeviceService) and its
# configuration parser.
otafleet_add_fuzz_target(NAME fuzz_server_request SOURCES fuzz_server_request.cpp
    LINK otafleet_server CORPUS corpus/server_request)
