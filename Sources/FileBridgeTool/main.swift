import FileBridge

// The file bridge as an executable of its own (the `daybreak-file-bridge`
// product). `daybreak` run by the same name is the same program.
FileBridgeMain.run(Array(CommandLine.arguments.dropFirst()))
