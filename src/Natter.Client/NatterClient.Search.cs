using System.Globalization;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Natter.Client;

public sealed partial class NatterClient
{
    /// <summary>
    /// GET /api/search (protocol v2 §2): one page of the caller's messages whose words start with every word of
    /// <paramref name="query"/>, newest first. Pass the page's <see cref="SearchPage.Cursor"/> back for the next one;
    /// it is null on the last page. <paramref name="room"/> and <paramref name="from"/> (a username) narrow the search.
    /// </summary>
    public async Task<SearchPage> SearchAsync(string query, string? room = null, string? from = null, int? limit = null, string? cursor = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var parts = new List<string> { "q=" + Uri.EscapeDataString(query) };
        if (room is not null) { parts.Add("room=" + Uri.EscapeDataString(room)); }
        if (from is not null) { parts.Add("from=" + Uri.EscapeDataString(from)); }
        if (limit is { } l) { parts.Add("limit=" + l.ToString(CultureInfo.InvariantCulture)); }
        if (cursor is not null) { parts.Add("cursor=" + Uri.EscapeDataString(cursor)); }

        using var response = await SendHttpAsync(HttpMethod.Get, "api/search?" + string.Join('&', parts), null, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var page = await response.Content.ReadFromJsonAsync(ClientJsonContext.Default.JsonElement, cancellationToken).ConfigureAwait(false);
        var results = new List<SearchResult>();
        foreach (var item in page.GetProperty("results").EnumerateArray())
        {
            var message = item.Deserialize(ClientJsonContext.Default.MessageDto)
                ?? throw new NatterHttpException(response.StatusCode, "a search result without a message");
            results.Add(new SearchResult(ToMessage(message), item.GetProperty("room_name").GetString() ?? ""));
        }

        var next = page.GetProperty("cursor");
        return new SearchPage(results, next.ValueKind == JsonValueKind.String ? next.GetString() : null);
    }

    /// <summary>Every result of a search, newest first, fetching page after page (of <paramref name="pageSize"/>) as they are read.</summary>
    public async IAsyncEnumerable<SearchResult> SearchAllAsync(string query, string? room = null, string? from = null, int? pageSize = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? cursor = null;
        do
        {
            var page = await SearchAsync(query, room, from, pageSize, cursor, cancellationToken).ConfigureAwait(false);
            foreach (var result in page.Results)
            {
                yield return result;
            }

            cursor = page.Cursor;
        }
        while (cursor is not null);
    }
}

/// <summary>A message found by search, in its current state, and its room's name as the caller sees it.</summary>
public sealed record SearchResult(ChatMessage Message, string RoomName);

/// <summary>One page of search results, newest first; <see cref="Cursor"/> asks for the next page (null: this was the last).</summary>
public sealed record SearchPage(IReadOnlyList<SearchResult> Results, string? Cursor);
