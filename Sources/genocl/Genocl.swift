import ArgumentParser

@main
struct Genocl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genocl",
        abstract: "Train generative image models on any OpenCL device.",
        version: "0.1.0",
        subcommands: [Train.self])
}
