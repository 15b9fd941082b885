import FuzzSupport
import GlossFormats
import GlossModel

/// Input: one mode byte, then inline markup; with mode bit 0 set, the markup is followed by a
/// NUL byte and the original text it must keep (an edit of an existing document).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInlineMarkup(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    var markupBytes = input.rest
    var original: String?
    if mode & 1 != 0 {
        let (markup, text) = input.restSplitAtNUL
        markupBytes = markup
        original = utf8String(text) ?? ""
    }
    guard let markup = utf8String(markupBytes) else { return 0 }
    let content: InlineMarkupContent
    do {
        content = try InlineMarkupParser(file: "fuzz.txt").parse(markup, originalText: original)
    } catch {
        fuzzCheck(!error.problems.isEmpty, "inline markup refused without a problem")
        return 0
    }
    let length = content.text.unicodeScalars.count
    for span in content.spans {
        for r in span.ranges {
            fuzzCheck(0 <= r.start && r.start <= r.end && r.end <= length, "inline markup made the range \(r) over \(length) scalars")
        }
    }
    return 0
}
