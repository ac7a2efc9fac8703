/// The control protocol between `daybreak` and its clients (issue: the daemon).
///
/// Not built yet; docs/protocol.md will describe the frames once it is.
public enum ControlProtocol {
    public static let implemented = false
}
