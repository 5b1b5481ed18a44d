//! The fake's video is one a player can play: an MP4 whose track is H.264, index first.

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn the_demo_video_is_a_real_small_h264_mp4() {
    let mp4 = inkstone_fake_dashscope::DEMO_MP4;
    assert!(mp4.len() < 16 * 1024, "a few KB: {}", mp4.len());
    assert_eq!(&mp4[4..8], b"ftyp");
    let moov = find(mp4, b"moov").expect("a movie header");
    let mdat = find(mp4, b"mdat").expect("media data");
    assert!(
        moov < mdat,
        "moov first, so playback starts before the whole file is read"
    );
    assert!(find(mp4, b"avc1").is_some(), "an H.264 track");
    assert!(
        find(mp4, b"avcC").is_some(),
        "with its decoder configuration"
    );
    assert!(mdat - moov > 200, "a sample table, not an empty header");
}
