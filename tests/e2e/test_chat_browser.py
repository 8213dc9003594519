"""A person's first chat: Debian's chromium, driven by Playwright, against a real ``gennai serve``
with the embedded model. The answer must arrive in pieces and the conversation survive a reload.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect
from tests.conftest import LiveServer

pytestmark = pytest.mark.e2e


async def test_chat_streams_and_is_found_again_after_reload(browser: Browser, live_server: LiveServer):
    page = await browser.new_page()
    await page.goto(live_server.url + "/")
    await expect(page.get_by_role("status")).to_contain_text("ローカル単一利用者モード")

    # Count how often the answer's text changes while it streams in.
    await page.evaluate("""() => {
        window.answerUpdates = 0;
        new MutationObserver(() => { window.answerUpdates += 1; })
            .observe(document.getElementById('messages'), {subtree: true, childList: true, characterData: true});
    }""")
    await page.get_by_label("メッセージを入力").fill("Write a short poem about the sea.")
    await page.get_by_role("button", name="送信").click()

    answer = page.locator("li.message.assistant").last
    await expect(answer).to_have_class(re.compile(r"status-complete"), timeout=60_000)
    answer_text = (await answer.locator(".body").inner_text()).strip()
    assert answer_text
    assert await page.evaluate("window.answerUpdates") > 3, "the answer did not arrive in pieces"
    await expect(page).to_have_url(re.compile(r"/c/[0-9a-f-]{36}$"))

    await page.reload()
    await expect(page.locator("li.message.user")).to_contain_text("Write a short poem about the sea.")
    await expect(page.locator("li.message.assistant .body")).to_contain_text(answer_text[:10])

    await page.get_by_role("link", name="履歴").click()
    await expect(page.get_by_role("link", name="Write a short poem about the sea.")).to_be_visible()
    await page.close()


async def test_markdown_is_rendered_but_scripts_are_not(browser: Browser, live_server: LiveServer):
    page = await browser.new_page()
    await page.goto(live_server.url + "/")
    rendered = await page.evaluate("""() => {
        const element = document.createElement('div');
        const source = '**bold** <img src=x onerror="window.pwned=1"> <script>window.pwned=2</script>';
        window.gennaiMarkdown.render(element, source);
        document.body.append(element);
        return element.innerHTML;
    }""")
    assert "<strong>bold</strong>" in rendered
    assert "onerror" not in rendered and "<script" not in rendered
    assert await page.evaluate("window.pwned") is None
    await page.close()


async def test_stop_keeps_what_arrived_and_marks_it_incomplete(browser: Browser, live_server: LiveServer):
    page = await browser.new_page()
    await page.goto(live_server.url + "/")
    await page.get_by_label("メッセージを入力").fill("Count from one to five hundred, one number per line.")
    await page.get_by_role("button", name="送信").click()
    answer = page.locator("li.message.assistant").last
    await page.wait_for_function(
        """() => { const body = document.querySelector('li.message.assistant:last-child .body');
                   return body && body.textContent.trim().length > 5 && !body.textContent.includes('生成中'); }""",
        timeout=60_000,
    )
    await page.get_by_role("button", name="停止").click()
    await expect(answer).to_have_class(re.compile(r"status-incomplete"))
    kept = (await answer.locator(".body").inner_text()).strip()
    assert kept

    await page.reload()
    stored = page.locator("li.message.assistant").last
    await expect(stored).to_have_class(re.compile(r"status-incomplete"))
    await expect(stored.locator(".note")).to_contain_text("途中で止まりました")
    await page.close()


async def test_legal_page_verifies_citations(browser: Browser, live_server: LiveServer):
    page = await browser.new_page()
    await page.goto(live_server.url + "/legal?q=審査基準")
    await expect(page.get_by_role("link", name=re.compile("行政手続法"))).not_to_have_count(0)
    await page.get_by_label("検証する文章").fill("行政手続法第五条第一項により定める。同法第九百条も参照。")
    await page.get_by_role("button", name="検証する").click()
    rows = page.locator("#verify-result table.citations tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("確認済み")
    await expect(rows.nth(1)).to_contain_text("該当なし")
    await rows.nth(0).get_by_role("link").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("第五条")
    await page.close()
