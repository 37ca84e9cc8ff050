// A thin driver: everything else lives in CSGB and in Commands.swift.
CSGBCommand.main(arguments: Array(CommandLine.arguments.dropFirst()))
