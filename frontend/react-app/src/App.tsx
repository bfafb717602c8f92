import { Suspense, lazy, useEffect, useState } from "react";
import { NavLink as RouterLink, Navigate, Route, Routes, useLocation } from "react-router-dom";
import { AppShell, Burger, Button, Group, Loader, NavLink, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { isSignedIn, onAuthChange, signOut } from "./api/auth";
import { useDocumentEvents } from "./api/events";
import { SignIn } from "./pages/SignIn";

// Each page is its own bundle, fetched the first time it is shown: the sign-in screen and the
// shell load without the code of pages the user never opens.
const Library = lazy(() => import("./pages/Library").then((m) => ({ default: m.Library })));
const DocumentView = lazy(() => import("./pages/Document").then((m) => ({ default: m.DocumentView })));
const Search = lazy(() => import("./pages/Search").then((m) => ({ default: m.Search })));
const Chat = lazy(() => import("./pages/Chat").then((m) => ({ default: m.Chat })));
const Keys = lazy(() => import("./pages/Keys").then((m) => ({ default: m.Keys })));
const Collections = lazy(() => import("./pages/Collections").then((m) => ({ default: m.Collections })));
const Status = lazy(() => import("./pages/Status").then((m) => ({ default: m.Status })));
const Review = lazy(() => import("./pages/Review").then((m) => ({ default: m.Review })));

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
        <Suspense fallback={<Loader aria-label="Loading page" />}>
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
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
