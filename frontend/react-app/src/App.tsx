import { useEffect, useState } from "react";
import { NavLink as RouterLink, Navigate, Route, Routes, useLocation } from "react-router-dom";
import { AppShell, Burger, Button, Group, NavLink, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { isSignedIn, onAuthChange, signOut } from "./api/auth";
import { useDocumentEvents } from "./api/events";
import { SignIn } from "./pages/SignIn";
import { Library } from "./pages/Library";
import { DocumentView } from "./pages/Document";
import { Search } from "./pages/Search";
import { Chat } from "./pages/Chat";
import { Keys } from "./pages/Keys";
import { Collections } from "./pages/Collections";
import { Status } from "./pages/Status";
import { Review } from "./pages/Review";

const LINKS = [["/", "Library"], ["/collections", "Collections"], ["/search", "Search"], ["/chat", "Chat"], ["/review", "Review"], ["/keys", "API keys"], ["/status", "Status"]] as const;

export function App() {
  const [signedIn, setSignedIn] = useState(isSignedIn());
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  useEffect(() => onAuthChange(setSignedIn), []);
  useEffect(close, [location.pathname, close]);
  useDocumentEvents(signedIn);
  if (!signedIn) return <SignIn />;
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 200, breakpoint: "sm", collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group>
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={2} size="h3">Cairn</Title>
          </Group>
          <Button variant="subtle" onClick={() => void signOut()}>Sign out</Button>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        {LINKS.map(([to, label]) => (
          <NavLink key={to} component={RouterLink} to={to} label={label}
            active={to === "/" ? location.pathname === "/" || location.pathname.startsWith("/documents") : location.pathname.startsWith(to)} />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
          <Routes>
            <Route path="/" element={<Library />} />
            <Route path="/documents/:id" element={<DocumentView />} />
            <Route path="/collections" element={<Collections />} />
            <Route path="/search" element={<Search />} />
            <Route path="/chat" element={<Chat />} />
            <Route path="/review" element={<Review />} />
            <Route path="/keys" element={<Keys />} />
            <Route path="/status" element={<Status />} />
            <Route path="*" element={<Navigate to="/" replace />} />
          </Routes>
      </AppShell.Main>
    </AppShell>
  );
}
