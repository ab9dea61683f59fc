//! Who can see an item (R-X5), filtered: its ranking, and the person
//! selected kept selected while it changes.

use super::Detail;
use super::nodes::who_text;
use crate::tui::msg::Cmd;
use crate::tui::ranking::Ranked;

/// The id of the person selected in "who can see", if any.
fn selected(d: &Detail) -> Option<String> {
    let Detail::Who {
        audience,
        cursor,
        visible,
        ..
    } = d
    else {
        return None;
    };
    let hit = visible.hits().get(cursor.selected)?;
    Some(audience.ready()?.rows.get(hit.index())?.user_id.clone())
}

/// Selects `id` again when still shown; else keeps the cursor within the rows.
fn reselect(d: &mut Detail, id: Option<String>) {
    if let Detail::Who {
        audience,
        cursor,
        visible,
        ..
    } = d
    {
        let rows = audience
            .ready()
            .map(|a| a.rows.as_slice())
            .unwrap_or_default();
        let at = id.and_then(|id| {
            visible
                .hits()
                .iter()
                .position(|h| rows.get(h.index()).is_some_and(|r| r.user_id == id))
        });
        match at {
            Some(i) => cursor.selected = i,
            None => cursor.clamp(visible.hits().len()),
        }
    }
}

/// Ranks who can see an item for its filter, or (`fresh`) for the audience
/// that arrived; a long audience ranks off the UI thread.
pub(super) fn rank_who(d: &mut Detail, fresh: bool) -> Option<Cmd> {
    let id = selected(d);
    let Detail::Who {
        audience,
        filter,
        visible,
        ..
    } = &mut *d
    else {
        return None;
    };
    let pass = if fresh {
        let texts: Vec<String> = audience
            .ready()
            .map(|a| a.rows.iter().map(who_text).collect())
            .unwrap_or_default();
        visible.set_texts(texts.iter().map(String::as_str))
    } else {
        visible.query(filter.text())
    };
    reselect(d, id);
    pass
}

/// Takes a ranking's answer when it is this list's; hands it back otherwise.
pub(super) fn answered(d: &mut Detail, ranked: Ranked) -> Result<(), Ranked> {
    let id = selected(d);
    let Detail::Who { visible, .. } = &mut *d else {
        return Err(ranked);
    };
    visible.answer(ranked)?;
    reselect(d, id);
    Ok(())
}
