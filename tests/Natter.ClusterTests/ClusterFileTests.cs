using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using MySqlConnector;

namespace Natter.ClusterTests;

/// <summary>
/// Files in cluster mode (protocol v2 §3: every node serves every file): the bytes live in MariaDB as chunk rows, so
/// a file uploaded on one node is read on every other, and a deletion on any node frees it everywhere.
/// </summary>
public sealed class ClusterFileTests : ClusterTest
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private async Task<long> ChunkRowsAsync(string fileId)
    {
        await using var conn = new MySqlConnection(Cluster.Config!.MySql);
        await conn.OpenAsync(Ct);
        await using var cmd = new MySqlCommand("SELECT COUNT(*) FROM file_chunks WHERE file_key = @k OR file_key = @t", conn);
        cmd.Parameters.AddWithValue("@k", fileId);
        cmd.Parameters.AddWithValue("@t", fileId + ".thumb");
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_file_uploaded_on_one_node_is_served_by_every_node_and_a_deletion_on_another_frees_it_everywhere()
    {
        var config = ClusterConfig.Create();
        for (var i = 0; i < 3; i++)
        {
            // Small chunks, so a small file spans several rows.
            await Cluster.StartNodeAsync(ClusterScope.Node(config, $"node{i}", "Natter:Files:MySqlChunkBytes=65536"));
        }

        var (a, b, c) = (Cluster.Nodes[0], Cluster.Nodes[1], Cluster.Nodes[2]);
        var amy = await a.UserAsync("amy");
        var ben = await a.UserAsync("ben");
        var room = await amy.CreateRoomAsync("cluster files");
        await ben.JoinAsync(room);

        var content = new byte[300_000];
        new Random(7).NextBytes(content);
        var file = await amy.UploadOkAsync("data.bin", content);
        var image = await amy.UploadOkAsync("chart.png", TestImages.Make(900, 600), "image/png");
        var ids = new[] { file.GetProperty("id").GetString()!, image.GetProperty("id").GetString()! };
        Assert.Equal(5, await ChunkRowsAsync(ids[0]));

        var listener = Cluster.Own(await EventClient.ConnectAsync(c, ben.Username, ben.Token));
        var sent = await (await amy.PostJsonAsync($"/api/rooms/{room}/messages", new { text = "numbers and a chart", files = ids })).ExpectJsonAsync(HttpStatusCode.Created);
        Assert.Equal(ids, sent.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("id").GetString()));
        await Wait.UntilAsync(() => listener.Events(room).Count == 1, "the message reaches a member on node C");
        Assert.Equal(ids, listener.Events(room)[0].GetProperty("files").EnumerateArray().Select(f => f.GetProperty("id").GetString()));

        foreach (var node in new[] { b, c })
        {
            var benThere = ben.At(node);
            using var whole = await benThere.GetAsync(file.GetProperty("url").GetString()!);
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
            Assert.Equal(content, await whole.Content.ReadAsByteArrayAsync(Ct));

            // A range across a chunk boundary.
            using var part = await benThere.GetAsync(file.GetProperty("url").GetString()!, r => r.Headers.Range = new RangeHeaderValue(65_530, 65_545));
            Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
            Assert.Equal(content[65_530..65_546], await part.Content.ReadAsByteArrayAsync(Ct));

            using var thumb = await benThere.GetAsync(image.GetProperty("thumb_url").GetString()!);
            Assert.Equal((400, 267), TestImages.SizeOf(await thumb.Content.ReadAsByteArrayAsync(Ct)));
        }

        await (await amy.At(c).DeletePathAsync($"/api/rooms/{room}/messages/1")).ExpectJsonAsync(HttpStatusCode.OK);
        foreach (var node in Cluster.Nodes)
        {
            using var gone = await amy.At(node).GetAsync(file.GetProperty("url").GetString()!);
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
            using var goneToo = await ben.At(node).GetAsync(image.GetProperty("url").GetString()!);
            Assert.Equal(HttpStatusCode.NotFound, goneToo.StatusCode);
        }

        await Wait.UntilAsync(async () => await ChunkRowsAsync(ids[0]) + await ChunkRowsAsync(ids[1]) == 0, "the freed files' chunks are removed");
    }

    [Fact]
    public async Task Uploads_to_two_nodes_at_once_never_pass_the_uploaders_quota_together()
    {
        var config = ClusterConfig.Create();
        var a = await Cluster.StartNodeAsync(ClusterScope.Node(config, "node0", "Natter:Files:QuotaBytes=1000"));
        var b = await Cluster.StartNodeAsync(ClusterScope.Node(config, "node1", "Natter:Files:QuotaBytes=1000"));
        var amy = await a.UserAsync("amy");

        // Every upload begins with the whole quota free; only three of 300 bytes fit, whichever node takes them.
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => amy.At(i % 2 == 0 ? a : b).UploadAsync($"part{i}.bin", new byte[300])));
        try
        {
            Assert.Equal(3, answers.Count(r => r.StatusCode == HttpStatusCode.Created));
            Assert.All(answers.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode));
        }
        finally
        {
            foreach (var r in answers)
            {
                r.Dispose();
            }
        }

        // The refused uploads left no chunk rows: only the three files' bytes remain.
        await using var conn = new MySqlConnection(config.MySql);
        await conn.OpenAsync(Ct);
        await using var cmd = new MySqlCommand("SELECT COUNT(DISTINCT file_key) FROM file_chunks", conn);
        Assert.Equal(3L, Convert.ToInt64(await cmd.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture));
    }
}
