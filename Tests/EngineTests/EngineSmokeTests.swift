import Testing
import JobFile
@testable import Engine

@Test func engineModuleLinksAgainstTheJobFileModel() {
    let job = JobClass(name: "smoke")
    #expect(job.name == "smoke")
}
