import SocketBridge

// The socket bridge as an executable of its own (the
// `daybreak-socket-bridge` product). `daybreak` run by the same name is the
// same program.
SocketBridgeMain.run(Array(CommandLine.arguments.dropFirst()))
