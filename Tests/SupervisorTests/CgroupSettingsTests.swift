import Testing
@testable import Supervisor

/// One job file on cgroup v2, v1 and hybrid machines: every row of the
/// table in docs/job-files.md ("cgroup v1 and v2"), both ways.
@Suite struct CgroupSettingsTests {
    typealias W = CgroupSettings.Write

    func v1(_ file: String, _ value: String) throws -> [W] {
        try CgroupSettings.writes(file: file, value: value, version: 1)
    }

    func v2(_ file: String, _ value: String, current: [String: String] = [:]) throws -> [W] {
        try CgroupSettings.writes(file: file, value: value, version: 2) { current[$0] }
    }

    @Test func upstartKeysWithoutTheControllerAreMadeWhole() {
        #expect(CgroupSettings.fileName(controller: "memory", key: "limit_in_bytes") == "memory.limit_in_bytes")
        #expect(CgroupSettings.fileName(controller: "cpuset", key: "cpus") == "cpuset.cpus")
        #expect(CgroupSettings.fileName(controller: "blkio", key: "throttle.write_bps_device") == "blkio.throttle.write_bps_device")
        #expect(CgroupSettings.fileName(controller: "io", key: "throttle.write_bps_device") == "blkio.throttle.write_bps_device")
        #expect(CgroupSettings.fileName(controller: "memory", key: "memory.max") == "memory.max")
        #expect(CgroupSettings.fileName(controller: "blkio", key: "io.max") == "io.max")
        #expect(CgroupSettings.fileName(controller: "pids", key: "pids.max") == "pids.max")
        #expect(CgroupSettings.fileName(controller: "cpu", key: "cgroup.procs") == "cgroup.procs")
    }

    @Test func controllersAreRenamedBetweenVersions() {
        #expect(CgroupSettings.v1Controller("io") == "blkio")
        #expect(CgroupSettings.v2Controller("blkio") == "io")
        #expect(CgroupSettings.v2Controller("cpuacct") == "cpu")
        #expect(CgroupSettings.v1Controller("memory") == "memory")
    }

    @Test func memoryLimitsBothWays() throws {
        #expect(try v1("memory.max", "256M") == [W(file: "memory.limit_in_bytes", value: "256M")])
        #expect(try v1("memory.max", "max") == [W(file: "memory.limit_in_bytes", value: "-1")])
        #expect(try v1("memory.high", "200M") == [W(file: "memory.soft_limit_in_bytes", value: "200M")])
        #expect(try v2("memory.limit_in_bytes", "52428800") == [W(file: "memory.max", value: "52428800")])
        #expect(try v2("memory.limit_in_bytes", "-1") == [W(file: "memory.max", value: "max")])
        #expect(try v2("memory.soft_limit_in_bytes", "100M") == [W(file: "memory.high", value: "100M")])
        // Names the version has are written as given.
        #expect(try v2("memory.max", "1G") == [W(file: "memory.max", value: "1G")])
        #expect(try v1("memory.limit_in_bytes", "1G") == [W(file: "memory.limit_in_bytes", value: "1G")])
    }

    @Test func cpuWeightAndSharesOnSystemdsScale() throws {
        #expect(try v1("cpu.weight", "100") == [W(file: "cpu.shares", value: "1024")])
        #expect(try v1("cpu.weight", "1") == [W(file: "cpu.shares", value: "10")])
        #expect(try v1("cpu.weight", "10000") == [W(file: "cpu.shares", value: "102400")])
        #expect(try v2("cpu.shares", "1024") == [W(file: "cpu.weight", value: "100")])
        #expect(try v2("cpu.shares", "2") == [W(file: "cpu.weight", value: "1")])
        #expect(try v2("cpu.shares", "262144") == [W(file: "cpu.weight", value: "10000")])
        #expect(throws: CgroupSettings.Untranslatable.self) { try v1("cpu.weight", "0") }
        #expect(throws: CgroupSettings.Untranslatable.self) { try v2("cpu.shares", "lots") }
    }

    @Test func cpuQuotaAndPeriod() throws {
        #expect(try v1("cpu.max", "50000 100000") == [W(file: "cpu.cfs_period_us", value: "100000"), W(file: "cpu.cfs_quota_us", value: "50000")])
        #expect(try v1("cpu.max", "25000") == [W(file: "cpu.cfs_quota_us", value: "25000")])
        #expect(try v1("cpu.max", "max") == [W(file: "cpu.cfs_quota_us", value: "-1")])
        #expect(try v2("cpu.cfs_quota_us", "50000") == [W(file: "cpu.max", value: "50000")])
        #expect(try v2("cpu.cfs_quota_us", "-1") == [W(file: "cpu.max", value: "max")])
        // The period alone keeps the quota the group has.
        #expect(try v2("cpu.cfs_period_us", "200000", current: ["cpu.max": "50000 100000\n"]) == [W(file: "cpu.max", value: "50000 200000")])
        #expect(try v2("cpu.cfs_period_us", "200000") == [W(file: "cpu.max", value: "max 200000")])
        #expect(throws: CgroupSettings.Untranslatable.self) { try v1("cpu.max", "1 2 3") }
    }

    @Test func ioWeightAndBlkioWeight() throws {
        #expect(try v1("io.weight", "100") == [W(file: "blkio.weight", value: "500")])
        #expect(try v1("io.weight", "default 200") == [W(file: "blkio.weight", value: "1000")])
        #expect(try v1("io.weight", "1") == [W(file: "blkio.weight", value: "10")])
        #expect(try v2("blkio.weight", "500") == [W(file: "io.weight", value: "default 100")])
        #expect(try v2("blkio.weight", "10") == [W(file: "io.weight", value: "default 2")])
        #expect(throws: CgroupSettings.Untranslatable.self) { try v1("io.weight", "8:16 200") }
    }

    @Test func ioMaxAndTheBlkioThrottles() throws {
        #expect(try v1("io.max", "8:16 wbps=1048576") == [W(file: "blkio.throttle.write_bps_device", value: "8:16 1048576")])
        #expect(try v1("io.max", "8:0 rbps=2097152 riops=100 wiops=max") == [
            W(file: "blkio.throttle.read_bps_device", value: "8:0 2097152"),
            W(file: "blkio.throttle.read_iops_device", value: "8:0 100"),
            W(file: "blkio.throttle.write_iops_device", value: "8:0 0"),
        ])
        #expect(try v2("blkio.throttle.write_bps_device", "8:16 1048576") == [W(file: "io.max", value: "8:16 wbps=1048576")])
        #expect(try v2("blkio.throttle.read_iops_device", "8:16 0") == [W(file: "io.max", value: "8:16 riops=max")])
        #expect(throws: CgroupSettings.Untranslatable.self) { try v1("io.max", "8:16 speed=9") }
        #expect(throws: CgroupSettings.Untranslatable.self) { try v2("blkio.throttle.write_bps_device", "1048576") }
    }

    @Test func pidsAndCpusetAreTheSameInBoth() throws {
        #expect(try v1("pids.max", "64") == [W(file: "pids.max", value: "64")])
        #expect(try v2("pids.max", "64") == [W(file: "pids.max", value: "64")])
        #expect(try v2("cpuset.cpus", "0-1") == [W(file: "cpuset.cpus", value: "0-1")])
    }

    @Test func v1OnlySettingsSayTheyHaveNoV2Form() {
        #expect(throws: CgroupSettings.Untranslatable(description: "memory.memsw.limit_in_bytes has no cgroup v2 counterpart Daybreak can write")) {
            try v2("memory.memsw.limit_in_bytes", "1G")
        }
    }
}
