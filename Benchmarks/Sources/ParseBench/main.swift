// Parse throughput: typical job files parsed per second on one core.
//
// The corpus is generated (deterministic) to look like real /etc/init files:
// documentation stanzas, a start on / stop on expression, env, respawn,
// limits, a pre-start script and an exec line, 25-40 lines each.
//
// Floor: one pass over the same bytes counting newlines, the least work any
// parser must do. The ratio says how far the parser is from touching each
// byte once. Target (issue 2): at least 20,000 typical files a second.
import BenchSupport
import JobFile

func corpus(count: Int) -> [[UInt8]] {
    var files: [[UInt8]] = []
    files.reserveCapacity(count)
    for i in 0..<count {
        var text = """
            # /etc/init/service-\(i).conf: generated benchmark job
            description "Benchmark service number \(i)"
            author "Daybreak benchmarks <bench@example.com>"
            version "1.\(i % 7)"

            start on (filesystem and started network-\(i % 13)
                      and net-device-up IFACE!=lo)
            stop on runlevel [!2345] or stopping network-\(i % 13)

            env PORT=\(8000 + i % 1000)
            env DATA_DIR="/var/lib/service-\(i)"
            env OPTS="--verbose --threads 4"
            export PORT

            respawn
            respawn limit 10 5
            normal exit 0 TERM
            kill timeout 30
            limit nofile 4096 8192
            nice 5
            umask 022
            console log

            pre-start script
                mkdir -p "$DATA_DIR"   # keep state here
                [ -r /etc/service-\(i).conf ] || { stop; exit 0; }
                chown daemon:daemon "$DATA_DIR"
            end script

            exec /usr/sbin/service-\(i) --port $PORT $OPTS

            """
        if i % 3 == 0 { text += "post-stop exec rm -f /run/service-\(i).pid\n" }
        if i % 5 == 0 { text += "instance $PORT\nsetuid daemon\n" }
        files.append(Array(text.utf8))
    }
    return files
}

let count = 10_000
let files = corpus(count: count)
let bytes = files.reduce(0) { $0 + $1.count }

// Check the corpus parses before timing it.
for (i, f) in files.enumerated() {
    do {
        _ = try Parser.parse(name: "service-\(i)", bytes: f, file: "service-\(i).conf")
    } catch {
        print("benchmark corpus does not parse: \(error)")
        Process_exit(1)
    }
}

let floor = bestOf(7) {
    var lines = 0
    for f in files {
        for b in f where b == 10 { lines += 1 }
    }
    blackHole(lines)
}
let parse = bestOf(7) {
    var parsed = 0
    for (i, f) in files.enumerated() {
        if let job = try? Parser.parse(name: "s", bytes: f, file: "s.conf"), job.respawn { parsed += 1 }
        _ = i
    }
    blackHole(parsed)
}
let print_ = bestOf(7) {
    var n = 0
    for f in files.prefix(1000) {
        if let job = try? Parser.parse(name: "s", bytes: f, file: "s.conf") { n += job.jobFileText.utf8.count }
    }
    blackHole(n)
}

let filesPerSecond = Double(count) / (Double(parse) / 1e9)
let floorPerSecond = Double(count) / (Double(floor) / 1e9)
print("Parse benchmark: \(count) generated job files, \(bytes / count) bytes each on average, best of 7 runs, one core")
print("")
row(["measure", "time", "files/s", "MB/s", "ratio to floor"])
row(["---", "---:", "---:", "---:", "---:"])
row(["floor: one pass over the bytes", fixed(Double(floor) / 1e6) + " ms", fixed(floorPerSecond, 0), fixed(Double(bytes) / (Double(floor) / 1e9) / 1e6, 1), "1.00"])
row(["parse (init-checkconf's parser)", fixed(Double(parse) / 1e6) + " ms", fixed(filesPerSecond, 0), fixed(Double(bytes) / (Double(parse) / 1e9) / 1e6, 1), fixed(Double(parse) / Double(floor))])
print("")
print("target: at least 20,000 files/s: \(filesPerSecond >= 20_000 ? "met" : "NOT met") (\(fixed(filesPerSecond / 20_000))x the target)")
print("(parse + print back of 1,000 files: \(fixed(Double(print_) / 1e6)) ms)")
