import GenoclCommands

@main
enum Entry {
    static func main() { Genocl.main() }
}
