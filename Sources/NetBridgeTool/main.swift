import NetBridge

// The net bridge as an executable of its own (the `daybreak-net-bridge`
// product). `daybreak` run by the same name is the same program.
NetBridgeMain.run(Array(CommandLine.arguments.dropFirst()))
