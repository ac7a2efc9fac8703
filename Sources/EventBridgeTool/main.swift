import EventBridge

// The event bridge as an executable of its own (the `daybreak-event-bridge`
// product). `daybreak` run by the same name is the same program.
EventBridgeMain.run(Array(CommandLine.arguments.dropFirst()))
