using Natter.Server.Storage;

namespace Natter.TestSupport.Specs;

/// <summary>
/// Files of protocol v2 §3 as every IChatStore keeps their metadata: a file is usable once complete, readable by its
/// uploader and by members of a room where a message lists it, and freed in the deletion's transaction when the last
/// message listing it is deleted.
/// </summary>
public abstract partial class StoreSpec
{
    private async Task<FileRef> FileAsync(long uploader, string name = "a.txt", long size = 3, bool complete = true)
    {
        var id = FileIds.New();
        await Store.AddUploadingFileAsync(id, uploader, name, 1_700_000_000_000, default).WaitAsync(Timeout);
        if (complete)
        {
            Assert.True(await Store.CompleteFileAsync(id, size, "text/plain", false, long.MaxValue, default).WaitAsync(Timeout));
        }

        return new FileRef(id, name, size, "text/plain", false);
    }

    private static NewEvent WithFiles(string room, long sender, string clientId, params FileRef[] files) =>
        NewEvent.Message(room, sender, "u" + sender, "see file", clientId, 1_700_000_000_000) with { Files = files };

    [Fact]
    public async Task A_file_is_usable_once_complete_and_counts_against_its_uploaders_quota_until_freed()
    {
        var alice = await UserAsync("alice");
        var done = await FileAsync(alice, size: 100);
        var uploading = await FileAsync(alice, complete: false);

        var found = await Store.FindFilesAsync([done.Id, uploading.Id, FileIds.New()], default).WaitAsync(Timeout);
        Assert.Equal([new FileRecord(done, alice)], found);
        Assert.Equal(100, await Store.GetUsedBytesAsync(alice, default).WaitAsync(Timeout));
        Assert.Null(await Store.FindReadableFileAsync(uploading.Id, alice, default).WaitAsync(Timeout));

        // An unfinished upload is swept only once it is older than the cutoff.
        Assert.Empty(await Store.ListFilesToSweepAsync(1_700_000_000_000, 10, default).WaitAsync(Timeout));
        Assert.Equal([uploading.Id], await Store.ListFilesToSweepAsync(1_700_000_000_001, 10, default).WaitAsync(Timeout));
        await Store.RemoveFileAsync(uploading.Id, default).WaitAsync(Timeout);
        Assert.Empty(await Store.ListFilesToSweepAsync(long.MaxValue, 10, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Members_of_a_room_where_a_message_lists_a_file_can_read_it_and_others_cannot()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var room = await Store.CreateRoomAsync("files", alice, default).WaitAsync(Timeout);
        await Store.JoinAsync(room.Id, bob, default).WaitAsync(Timeout);
        var file = await FileAsync(alice, "notes.txt");

        Assert.Equal(file, await Store.FindReadableFileAsync(file.Id, alice, default).WaitAsync(Timeout));
        Assert.Null(await Store.FindReadableFileAsync(file.Id, bob, default).WaitAsync(Timeout));

        var stored = Assert.Single(await AppendAsync(WithFiles(room.Id, alice, "f1", file)));
        Assert.Equal(AppendOutcome.Stored, stored.Outcome);
        Assert.Equal([file], stored.Event!.Files);
        Assert.Equal(file, await Store.FindReadableFileAsync(file.Id, bob, default).WaitAsync(Timeout));
        Assert.Null(await Store.FindReadableFileAsync(file.Id, carol, default).WaitAsync(Timeout));

        // History and the log carry the file objects.
        Assert.Equal([file], (await MessageAsync(room.Id, 1)).Files);
        Assert.Equal([file], Assert.Single(await LogAsync(room.Id)).Files);
    }

    [Fact]
    public async Task Deleting_the_last_message_that_lists_a_file_frees_it_and_a_freed_file_cannot_be_attached()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var room = await Store.CreateRoomAsync("files", alice, default).WaitAsync(Timeout);
        await Store.JoinAsync(room.Id, bob, default).WaitAsync(Timeout);
        var file = await FileAsync(alice, size: 10);
        var other = await FileAsync(alice, "other.txt");

        await AppendAsync(WithFiles(room.Id, alice, "m1", file, other), WithFiles(room.Id, alice, "m2", file));
        Assert.Equal(AppendOutcome.Stored, Assert.Single(await AppendAsync(Delete(room.Id, alice, 1, "d1"))).Outcome);

        // The deleted message lists nothing; the file another message lists stays, the other one is freed.
        var deleted = await MessageAsync(room.Id, 1);
        Assert.True(deleted.Deleted);
        Assert.Empty(deleted.Files);
        Assert.Empty((await LogAsync(room.Id))[0].Files);
        Assert.NotNull(await Store.FindReadableFileAsync(file.Id, bob, default).WaitAsync(Timeout));
        Assert.Null(await Store.FindReadableFileAsync(other.Id, alice, default).WaitAsync(Timeout));
        Assert.Equal([other.Id], await Store.ListFilesToSweepAsync(0, 10, default).WaitAsync(Timeout));

        // A send checked before the deletion, committed after it: refused, as the file is gone.
        Assert.Equal(AppendOutcome.NotFound, Assert.Single(await AppendAsync(WithFiles(room.Id, alice, "m3", other))).Outcome);

        Assert.Equal(AppendOutcome.Stored, Assert.Single(await AppendAsync(Delete(room.Id, alice, 2, "d2"))).Outcome);
        Assert.Null(await Store.FindReadableFileAsync(file.Id, alice, default).WaitAsync(Timeout));
        Assert.Equal(0, await Store.GetUsedBytesAsync(alice, default).WaitAsync(Timeout));
        Assert.Equal(new[] { file.Id, other.Id }.Order(StringComparer.Ordinal), (await Store.ListFilesToSweepAsync(0, 10, default).WaitAsync(Timeout)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Deleting_a_room_frees_the_files_only_its_messages_list()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var doomed = await Store.CreateGroupRoomAsync("doomed", "", RoomVisibility.Public, alice, default).WaitAsync(Timeout);
        var kept = await Store.CreateRoomAsync("kept", alice, default).WaitAsync(Timeout);
        await Store.JoinAsync(kept.Id, bob, default).WaitAsync(Timeout);
        var only = await FileAsync(alice, "only.txt", size: 5);
        var shared = await FileAsync(alice, "shared.txt", size: 7);

        await AppendAsync(WithFiles(doomed.Id, alice, "d1", only, shared), WithFiles(doomed.Id, alice, "d2", only));
        await AppendAsync(WithFiles(kept.Id, alice, "k1", shared));
        Assert.Equal(12, await Store.GetUsedBytesAsync(alice, default).WaitAsync(Timeout));

        Assert.Equal([alice], await Store.DeleteRoomAsync(doomed.Id, default).WaitAsync(Timeout));
        Assert.Equal([only.Id], await Store.ListFilesToSweepAsync(0, 10, default).WaitAsync(Timeout));
        Assert.Equal(7, await Store.GetUsedBytesAsync(alice, default).WaitAsync(Timeout));
        Assert.Equal(shared, await Store.FindReadableFileAsync(shared.Id, bob, default).WaitAsync(Timeout));
        Assert.Equal([shared], (await MessageAsync(kept.Id, 1)).Files);
    }

    [Fact]
    public async Task Only_the_uploader_can_have_a_file_listed_by_the_commit()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var room = await Store.CreateRoomAsync("files", alice, default).WaitAsync(Timeout);
        await Store.JoinAsync(room.Id, bob, default).WaitAsync(Timeout);
        var file = await FileAsync(alice);

        Assert.Equal(AppendOutcome.NotFound, Assert.Single(await AppendAsync(WithFiles(room.Id, bob, "b1", file))).Outcome);
        Assert.Equal(0, await Store.GetLastSeqAsync(room.Id, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Uploads_completing_at_once_never_pass_the_quota_together()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var before = await FileAsync(alice, size: 100);
        var bobs = await FileAsync(bob, size: 1000);
        var uploads = Enumerable.Range(0, 10).Select(_ => FileIds.New()).ToList();
        foreach (var id in uploads)
        {
            await Store.AddUploadingFileAsync(id, alice, "part.bin", 1_700_000_000_000, default).WaitAsync(Timeout);
        }

        // Each began with 400 bytes of room left (quota 500, 100 used); 100 bytes each, so four fit and six do not.
        var completed = await Task.WhenAll(uploads.Select(id => Task.Run(() => Store.CompleteFileAsync(id, 100, "application/octet-stream", false, 500, default))))
            .WaitAsync(Timeout);
        Assert.Equal(4, completed.Count(ok => ok));
        Assert.Equal(500, await Store.GetUsedBytesAsync(alice, default).WaitAsync(Timeout));
        Assert.Equal(5, (await Store.FindFilesAsync([before.Id, bobs.Id, .. uploads], default).WaitAsync(Timeout)).Count(f => f.UploaderId == alice));

        // A refused completion leaves the upload unfinished (the upload removes it); it is never ready.
        var refused = uploads.Where((_, i) => !completed[i]).ToList();
        Assert.Empty(await Store.FindFilesAsync(refused, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Uploads_no_message_lists_are_freed_once_older_than_the_cutoff_unless_an_avatar()
    {
        var alice = await UserAsync("alice");
        var room = await Store.CreateRoomAsync("files", alice, default).WaitAsync(Timeout);
        var attached = await FileAsync(alice, "attached.txt");
        var unattached = await FileAsync(alice, "unattached.txt", size: 20);
        var avatar = await FileAsync(alice, "me.png");
        await AppendAsync(WithFiles(room.Id, alice, "m1", attached));
        await Store.SetAvatarAsync(alice, avatar.Id, default).WaitAsync(Timeout);

        // Created at 1_700_000_000_000: not older than that cutoff.
        Assert.Equal(0, await Store.FreeUnattachedFilesAsync(1_700_000_000_000, 10, default).WaitAsync(Timeout));
        Assert.Equal(1, await Store.FreeUnattachedFilesAsync(1_700_000_000_001, 10, default).WaitAsync(Timeout));
        Assert.Equal([unattached.Id], await Store.ListFilesToSweepAsync(0, 10, default).WaitAsync(Timeout));
        Assert.Equal(6, await Store.GetUsedBytesAsync(alice, default).WaitAsync(Timeout));
        Assert.Equal(attached, await Store.FindReadableFileAsync(attached.Id, alice, default).WaitAsync(Timeout));
        Assert.Equal(avatar, await Store.FindReadableFileAsync(avatar.Id, alice, default).WaitAsync(Timeout));

        // A send listing the freed upload, checked before it was freed, is refused at the commit.
        Assert.Equal(AppendOutcome.NotFound, Assert.Single(await AppendAsync(WithFiles(room.Id, alice, "m2", unattached))).Outcome);
        Assert.Equal(0, await Store.FreeUnattachedFilesAsync(long.MaxValue, 10, default).WaitAsync(Timeout));

        // Setting the freed upload as the avatar (checked before the sweep freed it) is refused and changes nothing.
        Assert.False(await Store.SetAvatarAsync(alice, unattached.Id, default).WaitAsync(Timeout));
        Assert.Equal(avatar.Id, (await Store.FindProfileAsync("alice", default).WaitAsync(Timeout))!.AvatarFile);
    }
}
